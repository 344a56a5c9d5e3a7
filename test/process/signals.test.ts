import { startServerProcess, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

describe('server process signals', () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  it.each(['SIGTERM', 'SIGINT'] as const)('%s right after the ready line shuts down cleanly with exit 0', async (signal) => {
    // The handlers are installed before listening: the OS default (kill) never applies once "ready" is out.
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: '/dev/null' });
    servers.push(server);
    server.child.kill(signal);
    const exit = await server.exited;
    expect({ code: exit.code, signal: exit.signal, stderr: server.stderr() }).toMatchObject({ code: 0, signal: null });
    const messages = server.logs.map((l) => l.msg);
    expect(messages).toContain('shutting down');
    expect(messages[messages.length - 1]).toBe('shutdown complete');
  });
});
