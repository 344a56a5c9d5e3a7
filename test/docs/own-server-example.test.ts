import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fencedBlocks, repo, runExample, section, typeErrors } from './doc-examples';

// docs/embedding.md, Your own HTTP server: the gateway in an embedder's express app under a path prefix, its own
// authenticate, and the shutdown order. runExample waits for the process to exit, so a handle left open (a socket,
// the server, a timer of the runtime) fails this test by its timeout.
describe('docs/embedding.md, Your own HTTP server, and shutting down', () => {
  const doc = readFileSync(join(repo, 'docs/embedding.md'), 'utf8');
  const blocks = fencedBlocks(section(doc, '## Your own HTTP server, and shutting down'));
  const source = blocks.find((b) => b.lang === 'ts')!.body;

  it('has an example that type-checks against the built package, imports included', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/gateway/index.d.ts'))).toBe(true);
    expect(typeErrors(source)).toBe('');
  });

  it('runs the example against the built package, prints what the doc says and exits with nothing left open', () => {
    const expected = blocks.find((b) => b.lang === '')!.body.trim();
    expect(runExample(source).trim()).toBe(expected);
  });
});
