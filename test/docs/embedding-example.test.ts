import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, runExample, section, typeErrors } from './doc-examples';

describe('docs/embedding.md', () => {
  const blocks = fencedBlocks(readFileSync(join(repo, 'docs/embedding.md'), 'utf8'));
  const source = blocks.find((b) => b.lang === 'ts')!.body;

  it('has a complete example that type-checks against the built package, as a consumer compiles it', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/index.d.ts'))).toBe(true);
    expect(typeErrors(source)).toBe('');
  });

  it('runs the complete example against the built package and prints what the doc says', () => {
    const expected = blocks.find((b) => b.lang === '' && b.body.includes('retry:'))!.body.trim();
    expect(runExample(source).trim()).toBe(expected);
  });

  it('the "Notifying offline members" example type-checks and pushes to the member who is not connected', () => {
    const notifying = section(readFileSync(join(repo, 'docs/embedding.md'), 'utf8'), '## Notifying offline members');
    const example = fencedBlocks(notifying).find((b) => b.lang === 'ts')!.body;
    expect(typeErrors(example)).toBe('');
    expect(runExample(example).trim()).toBe('push to bob: alice wrote in team');
    expect(notifying).toContain('It prints `push to bob: alice wrote in team`.');
  });
});
