import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, runExample, section, typeErrors } from './doc-examples';

describe('docs/http-api.md, Embedding', () => {
  const doc = readFileSync(join(repo, 'docs/http-api.md'), 'utf8');
  const blocks = fencedBlocks(section(doc, '## Embedding'));
  const source = blocks.find((b) => b.lang === 'ts')!.body;

  it('has an example that type-checks against the built package, imports included', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/gateway/index.d.ts'))).toBe(true);
    expect(typeErrors(source)).toBe('');
  });

  it('runs the example against the built package and prints what the doc says', () => {
    const expected = blocks.find((b) => b.lang === '')!.body.trim();
    expect(runExample(source).trim()).toBe(expected);
  });
});
