import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const ROOT = path.resolve(__dirname, '../..');
/** The built server entry point (npm test builds dist/ before jest runs). */
export const SERVER_JS = path.join(ROOT, 'dist/bin/nlweb-chat.js');

/** A server child process that reported its port. */
export interface ServerProcess {
  readonly child: ChildProcess;
  readonly port: number;
  readonly url: string;
  /** Every JSON log line so far. */
  readonly lines: Array<Record<string, unknown>>;
  readonly stderr: () => string;
  /** Resolves when the process has exited. */
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGKILL (no shutdown code runs) and wait for the exit. */
  kill(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  /** SIGTERM (graceful: flush, close) and wait for the exit. */
  stop(): Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** The child's environment: ours without any nlweb-chat override, plus the given ones. */
function childEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(NLWEB_CHAT_|OTEL_)/.test(k) || k === 'HOST' || k === 'PORT') continue;
    env[k] = v;
  }
  return { ...env, ...extra };
}

/**
 * Starts dist/bin/nlweb-chat.js with `NLWEB_CHAT_CONFIG=configFile` and `PORT=port` and resolves once
 * its `nlweb-chat ready` log line names the bound port (rejects if it exits first or takes too long).
 */
export function startServerProcess(configFile: string, options: { port?: number; timeoutMs?: number } = {}): Promise<ServerProcess> {
  if (!fs.existsSync(SERVER_JS)) throw new Error(`${SERVER_JS} is missing: run npm run build first`);
  const child = spawn(process.execPath, [SERVER_JS], {
    cwd: ROOT,
    env: childEnv({ NLWEB_CHAT_CONFIG: configFile, PORT: String(options.port ?? 0) }),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => {
    child.once('exit', (code, signal) => resolve({ code, signal }));
  });
  const timeoutMs = options.timeoutMs ?? 60_000;
  return new Promise<ServerProcess>((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`server did not report ready within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    void exited.then(({ code, signal }) => {
      clearTimeout(timer);
      reject(new Error(`server exited before ready (code ${code}, signal ${signal}); stderr: ${stderr}`));
    });
    readline.createInterface({ input: child.stdout! }).on('line', (text) => {
      let line: Record<string, unknown>;
      try {
        line = JSON.parse(text) as Record<string, unknown>;
      } catch {
        return;
      }
      lines.push(line);
      if (line.msg !== 'nlweb-chat ready' || typeof line.port !== 'number') return;
      clearTimeout(timer);
      const port = line.port;
      resolve({
        child,
        port,
        url: `http://127.0.0.1:${port}`,
        lines,
        stderr: () => stderr,
        exited,
        kill() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
          return exited;
        },
        stop() {
          if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
          return exited;
        },
      });
    });
  });
}

/** Writes a config file: loopback, dev auth, no agents, no metrics/tracing, generous rate limits. */
export function writeServerConfig(file: string, storage: Record<string, unknown>): void {
  const config = {
    server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' } },
    chat: {
      storage,
      limits: { rate_limit_per_second: 100_000, rate_limit_burst: 1_000_000 },
      nlweb: { endpoints: [], standin: { enabled: false } },
    },
    observability: { log_level: 'info', metrics: { enabled: false }, tracing: { enabled: false } },
  };
  // JSON is YAML.
  fs.writeFileSync(file, JSON.stringify(config, null, 2));
}
