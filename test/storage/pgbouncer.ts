import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { PG_URL } from './pg-helpers';

/**
 * A real PgBouncer (the Debian package, 1.18 in CI) in front of the test PostgreSQL, started by the test from a
 * config file in a temp dir: not the system service. It must be installed: in CI (process.env.CI) its absence fails
 * the tests (.ci/run installs it), elsewhere they are skipped with a message.
 */

/** Where Debian puts it; /usr/sbin is not on every user's PATH. */
const CANDIDATES = ['pgbouncer', '/usr/sbin/pgbouncer', '/usr/bin/pgbouncer'];

/** The pgbouncer executable that runs, or undefined. */
export function findPgBouncer(): string | undefined {
  return CANDIDATES.find((bin) => spawnSync(bin, ['--version'], { timeout: 5000 }).status === 0);
}

/** `describe` when pgbouncer is installed and PostgreSQL reachable, or in CI (where their absence fails); else skip. */
export function describeWithPgBouncer(pgReachable: boolean, file: string): jest.Describe {
  const bin = findPgBouncer();
  if ((bin && pgReachable) || process.env.CI) return describe;
  const missing = bin ? `PostgreSQL at ${PG_URL} is unreachable` : 'pgbouncer is not installed (apt-get install -y pgbouncer)';
  console.warn(`${file}: ${missing}: skipping the PgBouncer tests outside CI (in CI they fail)`);
  return describe.skip;
}

export interface RunningPgBouncer {
  /** PG_URL's user and database, through the pooler. */
  readonly url: string;
  /** Stops the process (fast exit: clients are disconnected) and removes its temp dir. */
  stop(): Promise<void>;
}

export interface PgBouncerSettings {
  readonly poolMode: 'transaction' | 'session';
  /** Server connections per user and database: 1 makes every client share one, so what one leaves the next one gets. */
  readonly defaultPoolSize: number;
}

/** Starts pgbouncer in front of PG_URL's database and resolves once it listens. */
export async function startPgBouncer(settings: PgBouncerSettings): Promise<RunningPgBouncer> {
  const bin = findPgBouncer();
  if (!bin) throw new Error('pgbouncer not found on PATH or in /usr/sbin: install it (apt-get install -y pgbouncer)');
  const target = new URL(PG_URL);
  const user = decodeURIComponent(target.username) || 'postgres';
  const database = target.pathname.slice(1) || user;
  const port = await unusedPort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-pgbouncer-'));
  // pgbouncer refuses to run as root; as root the test runs it as nobody, who must read these files.
  fs.chmodSync(dir, 0o755);
  const server = [`host=${target.hostname}`, `port=${target.port || 5432}`, `dbname=${database}`];
  if (target.password) server.push(`password=${decodeURIComponent(target.password)}`);
  writeReadable(path.join(dir, 'users.txt'), `"${user}" ""\n`);
  writeReadable(
    path.join(dir, 'pgbouncer.ini'),
    [
      '[databases]',
      `${database} = ${server.join(' ')}`,
      '[pgbouncer]',
      'listen_addr = 127.0.0.1',
      `listen_port = ${port}`,
      'unix_socket_dir =',
      'auth_type = trust',
      `auth_file = ${path.join(dir, 'users.txt')}`,
      `pool_mode = ${settings.poolMode}`,
      `default_pool_size = ${settings.defaultPoolSize}`,
      // 1.21 can track protocol-level named statements per client (max_prepared_statements, on by default since 1.24);
      // off, every version behaves as 1.18, which the tests describe (and which does not know the key).
      ...(tracksPreparedStatements(bin) ? ['max_prepared_statements = 0'] : []),
      '',
    ].join('\n'),
  );
  const asRoot = process.getuid?.() === 0;
  const child = spawn(bin, [...(asRoot ? ['-u', 'nobody'] : []), path.join(dir, 'pgbouncer.ini')], { stdio: ['ignore', 'ignore', 'pipe'] });
  try {
    await listening(child);
  } catch (err) {
    child.kill('SIGKILL');
    fs.rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  return {
    url: `postgres://${encodeURIComponent(user)}@127.0.0.1:${port}/${database}`,
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Whether `bin` is PgBouncer 1.21 or newer ("PgBouncer 1.18.0" on its --version's first line). */
function tracksPreparedStatements(bin: string): boolean {
  const version = /PgBouncer (\d+)\.(\d+)/.exec(spawnSync(bin, ['--version'], { encoding: 'utf8', timeout: 5000 }).stdout ?? '');
  if (!version) return false;
  const [major, minor] = [Number(version[1]), Number(version[2])];
  return major > 1 || (major === 1 && minor >= 21);
}

function writeReadable(file: string, text: string): void {
  fs.writeFileSync(file, text, { mode: 0o644 });
}

/**
 * A port the system just handed out and nobody holds: pgbouncer logs the configured port, so with listen_port = 0
 * the test could not tell where it listens. Another process could take it in between; pgbouncer then exits, which
 * listening() reports.
 */
async function unusedPort(): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((resolve, reject) => probe.once('error', reject).listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** Resolves on the log line pgbouncer writes once its socket listens; rejects, with its log, if it exits first. */
function listening(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let log = '';
    child.stderr!.setEncoding('utf8');
    const onData = (chunk: string) => {
      log += chunk;
      if (log.includes(' process up: ')) {
        child.off('exit', onExit);
        child.stderr!.off('data', onData);
        // Keep draining its log, or pgbouncer blocks once the pipe is full.
        child.stderr!.resume();
        resolve();
      }
    };
    const onExit = (code: number | null) => reject(new Error(`pgbouncer exited (${code}) before listening:\n${log}`));
    child.stderr!.on('data', onData);
    child.once('exit', onExit);
    child.once('error', reject);
  });
}
