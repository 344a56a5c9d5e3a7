import { startServerProcess, type LogLine, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

/** The two lines that say where the server is, written whatever the log level. */
const isAnnouncement = (l: LogLine): boolean => l.msg === 'nlweb-chat ready' || (typeof l.msg === 'string' && l.msg.startsWith('open '));

describe('the ready line at a quiet log level', () => {
  const servers: ServerProcess[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
  });

  it.each(['warn', 'silent'])('log_level %s: the CLI still says where it listens and where to open the page', async (level) => {
    // startServerProcess waits for the ready line and reads the port PORT=0 bound from it.
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: '/dev/null', NLWEB_CHAT_LOG_LEVEL: level });
    servers.push(server);
    const ready = server.logs.find((l) => l.msg === 'nlweb-chat ready')!;
    expect(ready).toMatchObject({ level: 'info', port: server.port, url: server.url });
    // The default storage, said so that a restart emptying it is no surprise (bin/storage-location.ts).
    expect(ready).toMatchObject({ storage: 'memory', storage_location: 'this process only: every conversation is lost when it stops' });
    expect(server.port).toBeGreaterThan(0);
    const open = await server.waitForLog((l) => typeof l.msg === 'string' && l.msg.startsWith('open '));
    expect(open.msg).toBe(`open ${server.url}/?user_id=alice to chat (dev auth: callers name themselves with ?user_id=)`);
    // The address is the page.
    const page = await fetch(`${server.url}/?user_id=alice`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain('<title>nlweb-chat</title>');

    server.child.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(0);
    // Every other line still follows the level: no info line besides the two (no 'shutting down' either),
    // and at silent nothing at all.
    const others = server.logs.filter((l) => !isAnnouncement(l));
    expect(others.filter((l) => l.level === 'info' || l.level === 'debug')).toEqual([]);
    if (level === 'warn') {
      expect(others.map((l) => l.msg)).toContain(
        'development authentication is ON: callers name themselves with ?user_id= (loopback only)',
      );
      // No config file, so no endpoint: said, or someone would wait for an answer that never comes.
      expect(others.find((l) => typeof l.msg === 'string' && l.msg.startsWith('no AI agents configured'))).toMatchObject({ level: 'warn' });
    } else expect(others).toEqual([]);
  });
});
