import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { repo, typeErrors } from './doc-examples';

/** One name a doc tells a reader to import from one of the package's entry points. */
export interface DocImport {
  /** e.g. `docs/nlweb.md:4`. */
  readonly where: string;
  readonly name: string;
  /** `import { type X }` / `import type { X }`: only the type has to exist. */
  readonly typeOnly: boolean;
  /** `nlweb-chat` or `nlweb-chat/<entry>`. */
  readonly entry: string;
}

const ENTRY = `(nlweb-chat(?:/[a-z-]+)?)`;
/** `import { a, type B } from 'nlweb-chat/x'`, in a fenced block or inline code (may span lines). */
const IMPORT_STATEMENT = new RegExp(`import(\\s+type)?\\s*\\{([^}]*)\\}\\s*from\\s*'${ENTRY}'`, 'g');
/** Prose: "`runChatStoreContract(...)` from `nlweb-chat/testing`" (also "of" and "in"). */
const PROSE_REFERENCE = new RegExp(`\`([A-Za-z_$][\\w$]*)(?:\\([^\`]*\\))?\` (?:from|of|in) \`${ENTRY}\``, 'g');

/** Every import statement and "`name` from `nlweb-chat...`" reference of one markdown text. */
export function docImports(doc: string, markdown: string): DocImport[] {
  const lineOf = (index: number) => `${doc}:${markdown.slice(0, index).split('\n').length}`;
  const found: DocImport[] = [];
  for (const m of markdown.matchAll(IMPORT_STATEMENT)) {
    for (const part of m[2]!.split(',')) {
      const spec = part.trim();
      if (spec === '') continue;
      const typeOnly = m[1] !== undefined || spec.startsWith('type ');
      const name = spec.replace(/^type\s+/, '').split(/\s+as\s+/)[0]!;
      found.push({ where: lineOf(m.index), name, typeOnly, entry: m[3]! });
    }
  }
  for (const m of markdown.matchAll(PROSE_REFERENCE)) {
    found.push({ where: lineOf(m.index), name: m[1]!, typeOnly: false, entry: m[2]! });
  }
  return found;
}

/** docImports of every docs/*.md file (and README.md). */
export function allDocImports(): DocImport[] {
  const docs = readdirSync(join(repo, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .map((f) => `docs/${f}`);
  return ['README.md', ...docs].flatMap((doc) => docImports(doc, readFileSync(join(repo, doc), 'utf8')));
}

/**
 * The imports that do not resolve against the built package, each as `where: name from 'entry': diagnostic`.
 * All are checked in one program, one import per line (renamed, so equal names from two entries do not clash).
 */
export function unresolvedImports(imports: readonly DocImport[]): string[] {
  const source = imports.map((d, i) => `import { ${d.typeOnly ? 'type ' : ''}${d.name} as _doc${i} } from '${d.entry}';`).join('\n');
  const text = typeErrors(source);
  const problems: string[] = [];
  for (const line of text.split('\n')) {
    const at = /__doc-example__\.ts\((\d+),\d+\): (.*)/.exec(line);
    if (!at) continue;
    const d = imports[Number(at[1]) - 1]!;
    problems.push(`${d.where}: ${d.name} from '${d.entry}': ${at[2]}`);
  }
  // A diagnostic outside the imports (a broken declaration file, a missing lib) is reported as it is.
  return text !== '' && problems.length === 0 ? [text] : problems;
}
