import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

/**
 * Runs the code examples of docs/ against the built package (dist/), so a doc cannot drift from the code:
 * the example is taken from the markdown itself, never copied into a test.
 */
export const repo = join(__dirname, '../..');

/** The fenced blocks of a markdown text, in order: language tag ('' for none) and body. */
export function fencedBlocks(markdown: string): Array<{ lang: string; body: string }> {
  return [...markdown.matchAll(/```(\w*)\n([\s\S]*?)```/g)].map((m) => ({ lang: m[1], body: m[2] }));
}

/** The text of the section under `heading` (a whole `## ...` line), up to the next heading of that level. */
export function section(markdown: string, heading: string): string {
  const start = markdown.indexOf(`\n${heading}\n`);
  if (start < 0) throw new Error(`no section ${heading}`);
  const level = heading.split(' ')[0];
  const rest = markdown.slice(start + heading.length + 2);
  const end = rest.search(new RegExp(`\\n${level} `));
  return end < 0 ? rest : rest.slice(0, end);
}

/**
 * Type-checks an example as a consumer of the package would: it is placed (virtually) at the package root, so
 * `nlweb-chat` and `nlweb-chat/<entry>` resolve through package.json `exports` to dist's declarations, and it is a
 * CommonJS module there (the root package.json has no "type"), as in the consumers the README writes for: top-level
 * `await` fails. `declarations`: a second (virtual) file, for names an application would have made elsewhere.
 * Returns the diagnostics as text ('' when it type-checks).
 */
export function typeErrors(source: string, declarations?: string): string {
  const file = join(repo, '__doc-example__.ts');
  const declarationFile = join(repo, '__doc-example-names__.d.ts');
  const virtual = new Map([[file, source], ...(declarations === undefined ? [] : [[declarationFile, declarations] as const])]);
  const options: ts.CompilerOptions = {
    target: ts.ScriptTarget.ES2022,
    module: ts.ModuleKind.Node16,
    moduleResolution: ts.ModuleResolutionKind.Node16,
    lib: ['lib.es2022.d.ts', 'lib.dom.d.ts'],
    types: ['node'],
    strict: true,
    esModuleInterop: true,
    skipLibCheck: true,
    noEmit: true,
  };
  const host = ts.createCompilerHost(options);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (name, version, ...rest) => {
    const text = virtual.get(name);
    return text === undefined ? getSourceFile(name, version, ...rest) : ts.createSourceFile(name, text, version);
  };
  const fileExists = host.fileExists.bind(host);
  host.fileExists = (name) => virtual.has(name) || fileExists(name);
  const program = ts.createProgram([...virtual.keys()], options, host);
  const diagnostics = ts.getPreEmitDiagnostics(program);
  return ts.formatDiagnostics(diagnostics, {
    getCanonicalFileName: (f) => f,
    getCurrentDirectory: () => repo,
    getNewLine: () => '\n',
  });
}

/** An example transpiled to CommonJS, the package's entry points pointing at dist/. */
export function transpileExample(source: string): string {
  return (
    ts
      // esModuleInterop as typeErrors checks it (and as consumers compile): `import express from 'express'` works.
      .transpileModule(source, {
        compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022, esModuleInterop: true },
      })
      .outputText.replace(
        /require\("nlweb-chat(\/[a-z-]+)?"\)/g,
        (_m, entry: string | undefined) => `require(${JSON.stringify(join(repo, 'dist', entry ?? '', 'index.js'))})`,
      )
  );
}

/** Transpiles an example (transpileExample), runs it, returns stdout. */
export function runExample(source: string): string {
  const js = transpileExample(source);
  const dir = mkdtempSync(join(tmpdir(), 'doc-example-'));
  try {
    writeFileSync(join(dir, 'example.js'), js);
    // Bare imports other than the package (express, ...) resolve from the repository's node_modules.
    return execFileSync(process.execPath, [join(dir, 'example.js')], {
      encoding: 'utf8',
      timeout: 20_000,
      env: { ...process.env, NODE_PATH: join(repo, 'node_modules') },
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
