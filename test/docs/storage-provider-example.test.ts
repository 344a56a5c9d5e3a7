import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fencedBlocks, repo, section, transpileExample, typeErrors } from './doc-examples';

/** Whitespace-normalised, trimmed lines. */
const lines = (text: string) =>
  text
    .split('\n')
    .map((l) => l.trim().replace(/\s+/g, ' '))
    .filter(Boolean);

describe('docs/storage.md, Writing your own provider', () => {
  const blocks = fencedBlocks(section(readFileSync(join(repo, 'docs/storage.md'), 'utf8'), '## Writing your own provider'));
  const provider = blocks.find((b) => b.lang === 'ts' && b.body.includes('extends ChatStore'))!.body;
  const testFile = blocks.find((b) => b.lang === 'ts' && b.body.includes('runChatStoreContract'))!.body;
  const report = blocks.find((b) => b.lang === '')!.body;
  const importOfProvider = /^import \{ ToyStore \} from '\.\/toy-store';\n/m;

  it('has a provider and a test file that type-check against the built package, imports included', () => {
    // npm test builds dist/ before jest runs; the example imports the package entry points.
    expect(existsSync(join(repo, 'dist/testing/index.d.ts'))).toBe(true);
    expect(testFile).toMatch(importOfProvider);
    // One virtual file: the provider, then the test file without its import of the provider.
    expect(typeErrors(`${provider}\n${testFile.replace(importOfProvider, '')}`)).toBe('');
  });

  it('passes the mandatory groups under jest, skips the optional ones with the reasons the doc shows', () => {
    const dir = mkdtempSync(join(tmpdir(), 'doc-provider-'));
    try {
      writeFileSync(join(dir, 'toy-store.js'), transpileExample(provider));
      writeFileSync(join(dir, 'toy-store.test.js'), transpileExample(testFile));
      writeFileSync(join(dir, 'jest.config.json'), JSON.stringify({ rootDir: dir, testEnvironment: 'node', transform: {} }));
      const run = spawnSync(
        process.execPath,
        [
          require.resolve('jest/bin/jest'),
          '--config',
          join(dir, 'jest.config.json'),
          '--ci',
          '--verbose',
          '--json',
          `--outputFile=${join(dir, 'out.json')}`,
        ],
        { cwd: dir, encoding: 'utf8', timeout: 60_000 },
      );
      const result = JSON.parse(readFileSync(join(dir, 'out.json'), 'utf8')) as {
        numFailedTests: number;
        numPassedTests: number;
        success: boolean;
      };
      expect({ failed: result.numFailedTests, success: result.success }).toEqual({ failed: 0, success: true });
      // Every line of the doc's report is a line jest printed (group titles, then the count).
      const printed = new Set(lines(run.stderr));
      expect(lines(report).filter((line) => !printed.has(line))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
