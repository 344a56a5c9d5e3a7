import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { SqliteStore } from '../../storage-providers';
import { assertReadOnlyOpenLeavesSqliteUsable } from '../../storage-providers/sqlite-read-only-owner';
import { meta, msgs } from '../../testing/store-contract/fixtures';
import { CLI as REPLAY_CLI, ROOT, makeTmpDir } from '../replay/replay-fixtures';
import { ENTRY as SERVER_CLI } from '../process/server-process';

/**
 * A read-only open of a SQLite file no server holds creates its -shm and -wal files and cannot remove them. Made by
 * another user than the database's, they stop its server's next start ("attempt to write a readonly database"): the
 * read-only open (the replay CLI, `nlweb-chat migrate --check`) refuses that case up front instead.
 */

const NOBODY = 65534;

async function writeJournal(file: string): Promise<void> {
  const store = new SqliteStore({ path: file });
  await store.open();
  await store.createConversation(meta('c1'));
  await store.appendMessages('c1', msgs('c1', 1, 2));
  await store.close();
}

describe('assertReadOnlyOpenLeavesSqliteUsable', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = makeTmpDir();
    file = path.join(dir, 'chat.db');
    await writeJournal(file);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('refuses another user than the owner when no server holds the file (no -shm yet), naming both uids and the way out', () => {
    const owner = fs.statSync(file).uid;
    const other = owner + 1000;
    expect(fs.existsSync(`${file}-shm`)).toBe(false);
    expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, other)).toThrow(
      expect.objectContaining({
        code: 'CONFIG_ERR_INVALID',
        message: expect.stringContaining(`belongs to uid ${owner}, and this process runs as uid ${other}`),
      }),
    );
    expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, other)).toThrow(/read a copy/);
  });

  it('lets the owner, root, and anyone while a server holds the file (its -shm exists and is reused) read it', async () => {
    const owner = fs.statSync(file).uid;
    expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, owner)).not.toThrow();
    expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, 0)).not.toThrow();
    expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, undefined)).not.toThrow();
    const server = new SqliteStore({ path: file });
    await server.open();
    try {
      expect(fs.existsSync(`${file}-shm`)).toBe(true);
      expect(() => assertReadOnlyOpenLeavesSqliteUsable(file, owner + 1000)).not.toThrow();
    } finally {
      await server.close();
    }
  });
});

function runAs(uid: number, args: readonly string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, args, { cwd: ROOT, uid, gid: uid, env: { PATH: process.env.PATH ?? '', ...env } }, (err, _out, stderr) => {
      resolve({ code: err ? Number((err as { code?: unknown }).code) : 0, stderr });
    });
  });
}

// Running a CLI as another user needs root; CI runs as root here, so only a local run as a plain user skips it.
const asRoot = process.getuid?.() === 0;
if (!asRoot && process.env.CI) throw new Error('sqlite-read-only-owner CLI tests need root (to run the CLIs as uid 65534) in CI');
if (!asRoot) console.warn('not root: skipping the read-only-open-as-another-user CLI tests (they run in CI)');
(asRoot ? describe : describe.skip)('CLIs run as another user than the database owner (CLI processes, uid 65534)', () => {
  let dir: string;
  let file: string;
  beforeEach(async () => {
    dir = makeTmpDir();
    fs.chmodSync(dir, 0o777);
    file = path.join(dir, 'chat.db');
    await writeJournal(file);
    fs.chmodSync(file, 0o644);
  });
  afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

  /** The refusal left nothing beside the file, and its server still opens and writes it. */
  async function serverStillWrites(): Promise<void> {
    expect(fs.readdirSync(dir).sort()).toEqual(['chat.db']);
    const server = new SqliteStore({ path: file });
    await server.open();
    await server.appendMessages('c1', msgs('c1', 3, 3));
    await server.close();
  }

  it('replay exits 1 naming both uids and leaves no -shm or -wal behind', async () => {
    const result = await runAs(NOBODY, [REPLAY_CLI, 'list', '--storage', `sqlite:${file}`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(
      `replay: CONFIG_ERR_INVALID: sqlite database ${file} belongs to uid 0, and this process runs as uid ${NOBODY}`,
    );
    await serverStillWrites();
  });

  it('nlweb-chat migrate --check exits 1 the same way', async () => {
    const config = path.join(dir, 'config.yaml');
    fs.writeFileSync(config, `chat:\n  storage:\n    backend: sqlite\n    sqlite: { path: '${file}' }\n`);
    const result = await runAs(NOBODY, [SERVER_CLI, 'migrate', '--check'], { NLWEB_CHAT_CONFIG: config });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(`CONFIG_ERR_INVALID: sqlite database ${file} belongs to uid 0, and this process runs as uid ${NOBODY}`);
    fs.rmSync(config);
    await serverStillWrites();
  });
});
