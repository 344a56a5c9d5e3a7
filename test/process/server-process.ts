import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { createInterface } from 'node:readline';

/** The built entry point (`npm test` builds dist/ before jest runs). */
export const ENTRY = path.resolve(__dirname, '../../dist/bin/nlweb-chat.js');

export interface LogLine {
  readonly msg?: string;
  readonly level?: string;
  readonly [key: string]: unknown;
}

export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  readonly wsUrl: string;
  /** Every JSON log line so far (stdout). */
  readonly logs: LogLine[];
  /** Everything the process wrote to stderr. */
  stderr(): string;
  /** Resolves when the process exits. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** Resolves with the first log line matching (already seen or future). */
  waitForLog(predicate: (line: LogLine) => boolean): Promise<LogLine>;
  /** SIGKILL if still running (for afterEach). */
  kill(): Promise<void>;
}

/** How the server is started: by default `node dist/bin/nlweb-chat.js`; a test of `npm start` names npm. */
export interface ServerLaunch {
  readonly file: string;
  readonly args: readonly string[];
  readonly cwd?: string;
  /** Its own process group, so kill() also ends what it started (a server `npm start` left behind). */
  readonly processGroup?: boolean;
}

/**
 * Spawns the server (`launch`) with PORT=0 and resolves once its `nlweb-chat ready` log line names the bound port.
 * Rejects (with stderr) if the process exits first.
 */
export async function startServerProcess(
  env: Record<string, string>,
  launch: ServerLaunch = { file: process.execPath, args: [ENTRY] },
): Promise<ServerProcess> {
  if (!existsSync(ENTRY)) throw new Error(`${ENTRY} is missing: run \`npm run build\` first (npm test does)`);
  const child = spawn(launch.file, launch.args, {
    env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', NLWEB_CHAT_LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
    cwd: launch.cwd,
    detached: launch.processGroup === true,
  });
  const logs: LogLine[] = [];
  let stderr = '';
  const waiters: Array<{ predicate: (l: LogLine) => boolean; resolve: (l: LogLine) => void; reject: (e: Error) => void }> = [];
  child.stderr!.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  createInterface({ input: child.stdout! }).on('line', (text) => {
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      line = { msg: text };
    }
    logs.push(line);
    for (const w of [...waiters]) {
      if (w.predicate(line)) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  });
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => {
      for (const w of waiters.splice(0))
        w.reject(new Error(`server exited (code ${code}, signal ${signal}) before the log line; stderr: ${stderr}`));
      resolve({ code, signal });
    });
  });
  const waitForLog = (predicate: (l: LogLine) => boolean): Promise<LogLine> => {
    const seen = logs.find(predicate);
    if (seen) return Promise.resolve(seen);
    if (child.exitCode !== null || child.signalCode !== null) return Promise.reject(new Error(`server has exited; stderr: ${stderr}`));
    return new Promise((resolve, reject) => waiters.push({ predicate, resolve, reject }));
  };
  // A server that never gets ready must not outlive the test as an orphan.
  const startTimer = setTimeout(() => child.kill('SIGKILL'), 60_000);
  let ready: LogLine;
  try {
    ready = await waitForLog((l) => l.msg === 'nlweb-chat ready');
  } finally {
    clearTimeout(startTimer);
  }
  const port = ready.port as number;
  return {
    child,
    port,
    url: `http://127.0.0.1:${port}`,
    wsUrl: `ws://127.0.0.1:${port}`,
    logs,
    stderr: () => stderr,
    exited,
    waitForLog,
    async kill() {
      if (launch.processGroup === true && child.pid !== undefined) {
        try {
          process.kill(-child.pid, 'SIGKILL');
        } catch {
          // The group is gone already: nothing of it is left running.
        }
      }
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGKILL');
        await exited;
      }
    },
  };
}

/** How a binary run to its end finished. */
export interface ProcessExit {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/**
 * Runs the binary with `args` to its end (port 0 on loopback unless `env` says otherwise). A server that gets ready
 * when it should not have is killed at once: the test then fails on its exit code, not on a timeout.
 */
export function runToExit(args: readonly string[], env: Record<string, string>): Promise<ProcessExit> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [ENTRY, ...args], {
      env: { PATH: process.env.PATH ?? '', PORT: '0', HOST: '127.0.0.1', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c: Buffer) => {
      stdout += c.toString();
      if (stdout.includes('nlweb-chat ready')) child.kill('SIGKILL');
    });
    child.stderr.on('data', (c: Buffer) => (stderr += c.toString()));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}
