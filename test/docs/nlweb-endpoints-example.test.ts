import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, runExample, section, typeErrors } from './doc-examples';

describe('docs/embedding.md, NLWeb endpoints from the config', () => {
  const blocks = fencedBlocks(section(readFileSync(join(repo, 'docs/embedding.md'), 'utf8'), '## NLWeb endpoints from the config'));
  const source = blocks.find((b) => b.lang === 'ts')!.body;
  const printed = blocks.find((b) => b.lang === '')!.body;

  it('type-checks against the built package and prints what the doc says: both configured endpoints answer', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/index.d.ts'))).toBe(true);
    expect(typeErrors(source)).toBe('');
    expect(runExample(source).trim()).toBe(printed.trim());
  });
});

describe('docs/nlweb.md, Several NLWeb endpoints in one conversation', () => {
  it('type-checks against the built package', () => {
    const blocks = fencedBlocks(
      section(readFileSync(join(repo, 'docs/nlweb.md'), 'utf8'), '## Several NLWeb endpoints in one conversation'),
    );
    expect(typeErrors(blocks.find((b) => b.lang === 'ts')!.body)).toBe('');
  });
});
