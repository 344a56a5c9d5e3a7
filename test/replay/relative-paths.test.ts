import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../storage-providers';
import { meta, msgs } from '../../testing/store-contract/fixtures';
import { makeTmpDir, runCli } from './replay-fixtures';

/**
 * A relative sqlite: path or --file is relative to the CLI's working directory, which `npm run replay` sets to the
 * package's root, not where the command was typed: a "does not exist" must say where it looked.
 */
describe('replay: relative paths that do not exist name the file looked for (CLI process)', () => {
  let dir: string;
  let elsewhere: string;
  beforeAll(async () => {
    dir = makeTmpDir();
    elsewhere = makeTmpDir();
    const store = new SqliteStore({ path: path.join(dir, 'chat.db') });
    await store.open();
    await store.close();
  });
  afterAll(() => {
    fs.rmSync(dir, { recursive: true, force: true });
    fs.rmSync(elsewhere, { recursive: true, force: true });
  });

  it('sqlite:./chat.db from another directory: STORAGE_ERR_UNAVAILABLE with the absolute path and the directory', async () => {
    const out = await runCli(['list', '--storage', 'sqlite:./chat.db'], { cwd: elsewhere });
    expect(out).toEqual({
      code: 1,
      stdout: '',
      stderr: `replay: STORAGE_ERR_UNAVAILABLE: sqlite database ./chat.db does not exist (looked for ${path.join(
        fs.realpathSync(elsewhere),
        'chat.db',
      )}: relative to ${fs.realpathSync(elsewhere)})\n`,
    });
    // The same spec from the directory that holds it opens the file.
    expect(await runCli(['list', '--storage', 'sqlite:./chat.db'], { cwd: dir })).toEqual({ code: 0, stdout: '', stderr: '' });
    // An absolute path needs no explanation.
    const absolute = await runCli(['list', '--storage', `sqlite:${path.join(elsewhere, 'chat.db')}`]);
    expect(absolute.stderr).toBe(`replay: STORAGE_ERR_UNAVAILABLE: sqlite database ${path.join(elsewhere, 'chat.db')} does not exist\n`);
  });

  it('export -o out.jsonl says the full path it wrote: the working directory is not always where the command was typed', async () => {
    // "exported 1 records of c1 to out.jsonl" sent a reader of `npm run replay` (run in the package's root) looking for
    // out.jsonl where they typed the command.
    const db = path.join(dir, 'export.db');
    const store = new SqliteStore({ path: db });
    await store.open();
    await store.createConversation(meta('c1'));
    await store.appendMessages('c1', msgs('c1', 1, 1));
    await store.close();
    const out = await runCli(['export', 'c1', '--storage', `sqlite:${db}`, '-o', 'out.jsonl'], { cwd: elsewhere });
    const written = path.join(fs.realpathSync(elsewhere), 'out.jsonl');
    expect(out).toEqual({ code: 0, stdout: '', stderr: `exported 1 records of c1 to ${written}\n` });
    expect(fs.readFileSync(written, 'utf8').split('\n')).toHaveLength(3); // the header, the record, the final newline
  });

  it('--file c1.jsonl from another directory: CONFIG_ERR_READ with the absolute path', async () => {
    const out = await runCli(['--file', 'c1.jsonl'], { cwd: elsewhere });
    expect(out.code).toBe(1);
    expect(out.stderr).toContain(
      `replay: CONFIG_ERR_READ: cannot read c1.jsonl (looked for ${path.join(fs.realpathSync(elsewhere), 'c1.jsonl')}: relative to `,
    );
  });
});
