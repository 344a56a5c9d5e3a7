/**
 * `npm start` (the README's way to run the server) under a supervisor: SIGTERM goes to npm, which passes it to
 * the shell running the script. Debian's sh (dash) does not pass it on, so with `"start": "node ..."` the server kept
 * running on its port without its graceful shutdown while npm and sh were gone. The script now `exec`s node, which
 * then is npm's child and gets the signal. Real npm, real server process (dist/ is built by `npm test`).
 */
import path from 'node:path';
import { startServerProcess, type ServerProcess } from './server-process';

jest.setTimeout(90_000);

const ROOT = path.resolve(__dirname, '../..');

describe('npm start', () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  it('SIGTERM to npm reaches the server: graceful shutdown, then npm and the server both end', async () => {
    const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
    const server = await startServerProcess(
      { NLWEB_CHAT_CONFIG: '/dev/null', HOME: process.env.HOME ?? ROOT, npm_config_update_notifier: 'false' },
      { file: npm, args: ['start', '--silent', '--ignore-scripts'], cwd: ROOT, processGroup: true },
    );
    servers.push(server);
    server.child.kill('SIGTERM');
    await server.exited;
    await server.waitForLog((l) => l.msg === 'shutdown complete');
    const messages = server.logs.map((l) => l.msg);
    expect(messages).toContain('shutting down');
    // Nothing listens on the port any more: the server process itself ended.
    await expect(fetch(`${server.url}/health/chat`)).rejects.toThrow();
  });
});
