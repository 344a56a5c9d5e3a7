import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import ts from 'typescript';

const repo = join(__dirname, '../..');

describe('docs/embedding.md', () => {
  it('runs the complete example against the built package and prints what the doc says', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/index.js'))).toBe(true);
    const doc = readFileSync(join(repo, 'docs/embedding.md'), 'utf8');
    const blocks = [...doc.matchAll(/```(\w*)\n([\s\S]*?)```/g)];
    const source = blocks.find((b) => b[1] === 'ts')![2];
    const expected = blocks.find((b) => b[1] === '' && b[2].includes('retry:'))![2].trim();
    const js = ts
      .transpileModule(source, { compilerOptions: { module: ts.ModuleKind.CommonJS, target: ts.ScriptTarget.ES2022 } })
      .outputText.replace(
        /require\("nlweb-chat\/storage-providers"\)/g,
        JSON.stringify(join(repo, 'dist/storage-providers/index.js')).replace(/^/, 'require(') + ')',
      )
      .replace(/require\("nlweb-chat"\)/g, `require(${JSON.stringify(join(repo, 'dist/index.js'))})`);
    const dir = mkdtempSync(join(tmpdir(), 'embed-'));
    try {
      writeFileSync(join(dir, 'example.js'), js);
      const out = execFileSync(process.execPath, [join(dir, 'example.js')], { encoding: 'utf8', timeout: 20_000 });
      expect(out.trim()).toBe(expected);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
