import fs from 'node:fs';
import path from 'node:path';
import { makeTmpDir, parseJsonLines, runMain, writeJournal } from './replay-fixtures';
import { cleanJournal } from './violation-journals';

const run = runMain;

describe('replay command line (in-process)', () => {
  let dir: string;
  let file: string;
  beforeAll(() => {
    dir = makeTmpDir();
    file = writeJournal(dir, 'clean.jsonl', cleanJournal());
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints help with the exit codes and exits 0', async () => {
    const out = await run('--help');
    expect(out.code).toBe(0);
    expect(out.stdout).toContain('Exit codes: 0 ok, 1 usage/IO error, 2 invariant violation (--check), 3 divergence (--rerun),');
    expect(out.stdout).toContain('4 --follow ended by the server (the follower was removed, or the conversation deleted).');
    expect(out.stdout).toContain('5 diff: the two exports differ.');
  });

  it('exits 1 on usage errors: unknown option, no source, two sources, bad numbers, bad spec', async () => {
    expect((await run('--file', file, '--bogus')).code).toBe(1);
    expect(await run('c1')).toMatchObject({ code: 1, stderr: expect.stringContaining('give exactly one of --storage') });
    expect((await run('c1', '--file', file, '--storage', 'memory')).code).toBe(1);
    expect(await run('--storage', 'memory')).toMatchObject({ code: 1, stderr: expect.stringContaining('a conversation id is required') });
    expect((await run('--file', file, '--width', '0')).code).toBe(1);
    expect(await run('c1', '--storage', 'mongodb://x')).toMatchObject({
      code: 1,
      stderr: expect.stringContaining('replay: CONFIG_ERR_INVALID'),
    });
    expect(await run('c1', '--storage', 'postgres://u:hunter2@[bad')).toMatchObject({
      code: 1,
      stderr: expect.not.stringContaining('hunter2'),
    });
  });

  it('prints every usage error coded, as docs/replay.md says: replay: CONFIG_ERR_INVALID: <message>', async () => {
    const usage = [
      ['c1', '--width', '0'], // commander's own argument check
      ['--file', file, '--bogus'], // unknown option
      ['--file', file, '--as', 'bob', '--check'],
      ['c1'], // no source
      ['c1', '--file', file, '--storage', 'memory'], // two sources
      ['--storage', 'memory'], // no conversation id
      ['c1', '--file', file, '--user', 'bob'], // --user without --server
      ['list'], // no source for list
      ['--file', file, '--max-reports'], // option without its value
      ['export', 'c1', 'c2', '--storage', 'memory'], // excess argument
    ];
    for (const args of usage) {
      const out = await run(...args);
      expect({ args, code: out.code }).toEqual({ args, code: 1 });
      // One coded error line first (commander's "error: " prefix gone), then the pointer to --help.
      const [first, ...rest] = out.stderr.trimEnd().split('\n');
      expect({ args, first }).toEqual({ args, first: expect.stringMatching(/^replay: CONFIG_ERR_INVALID: (?!error:)\S/) });
      expect(rest).toEqual(['(add --help for usage)']);
      expect(out.stdout).toBe('');
    }
    expect((await run('c1', '--width', '0')).stderr).toContain(
      "replay: CONFIG_ERR_INVALID: option '--width <n>' argument '0' is invalid. must be a positive integer",
    );
  });

  it('memory storage is valid but empty: not found, and an empty list', async () => {
    expect(await run('c1', '--storage', 'memory')).toMatchObject({ code: 1, stderr: expect.stringContaining('CHAT_ERR_NOT_FOUND') });
    expect(await run('list', '--storage', 'memory')).toEqual({ code: 0, stdout: '', stderr: '' });
  });

  it('re-exports a JSONL file to stdout and to a file, keeping every record', async () => {
    const out = await run('export', '--file', file);
    expect(out.code).toBe(0);
    const [header, ...records] = parseJsonLines(out.stdout);
    expect(header).toMatchObject({ format: 'nlweb-chat-journal', version: 1, conversation_id: 'conv-1' });
    expect(records).toEqual(cleanJournal());
    const target = path.join(dir, 'copy.jsonl');
    const toFile = await run('export', 'conv-1', '--file', file, '-o', target);
    expect(toFile).toMatchObject({ code: 0, stdout: '', stderr: `exported 5 records of conv-1 to ${target}\n` });
    expect(parseJsonLines(fs.readFileSync(target, 'utf8')).slice(1)).toEqual(cleanJournal());
  });

  it('a directory as --file, or an --output it cannot create, is a coded error naming the path, not a bare errno', async () => {
    const fromDir = await run('--file', dir);
    expect(fromDir).toMatchObject({ code: 1, stdout: '' });
    expect(fromDir.stderr).toMatch(new RegExp(`^replay: CONFIG_ERR_READ: cannot read ${dir}.*: it is a directory, not a JSONL file\n`));
    const target = path.join(dir, 'no-such-dir', 'copy.jsonl');
    const toNowhere = await run('export', 'conv-1', '--file', file, '-o', target);
    expect(toNowhere).toMatchObject({ code: 1, stdout: '' });
    expect(toNowhere.stderr).toMatch(new RegExp(`^replay: CONFIG_ERR_INVALID: cannot write --output ${target}.*: ENOENT`));
  });

  it('notes on stderr when the --as participant never joined', async () => {
    const out = await run('--file', file, '--as', 'carol');
    expect(out.code).toBe(0);
    expect(out.stdout.trim().split('\n')).toHaveLength(1);
    expect(out.stderr).toBe('replay: carol never joined conversation conv-1 (participants who joined: alice, echo)\n');
  });
});
