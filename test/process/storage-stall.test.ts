import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startTcpProxy, type TcpProxy } from '../recovery/tcp-proxy';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { startServerProcess, type ServerProcess } from './server-process';

/**
 * A PostgreSQL that accepts connections but stops answering (a network partition, a frozen host: no reset,
 * no refusal) behind a real server process. Before, /readyz waited for a ping that never came back: the
 * probe hung for as long as the stall lasted (20 minutes in an operator's run) and the periodic probe stopped.
 */
const reachable = pgReachableSync();
const PG_PORT = Number(new URL(PG_URL).port || 5432);

describeWithPg(reachable)('PostgreSQL stalls under a running server', () => {
  const schema = uniqueSchema();
  const dir = mkdtempSync(path.join(tmpdir(), 'nlweb-chat-stall-'));
  let proxy: TcpProxy;
  let server: ServerProcess | undefined;

  beforeAll(async () => {
    proxy = await startTcpProxy({ host: '127.0.0.1', port: PG_PORT });
    const url = new URL(PG_URL);
    url.port = String(proxy.port);
    // The same server both times; the second gives shutdown a 1 s deadline and logs at info.
    const config = (observability: string): string =>
      [
        'server: { auth: { mode: dev } }',
        'chat:',
        '  storage:',
        '    backend: postgres',
        `    postgres: { url: '${url.toString()}', schema: ${schema}, pool_size: 4 }`,
        '  nlweb: { endpoints: [], standin: { enabled: false } }',
        `observability: ${observability}`,
        '',
      ].join('\n');
    writeFileSync(path.join(dir, 'config.yaml'), config('{ log_level: warn, metrics: { enabled: false } }'));
    writeFileSync(
      path.join(dir, 'short-deadline.yaml'),
      config('{ log_level: info, metrics: { enabled: false }, shutdown_deadline_s: 1 }'),
    );
  });
  afterEach(async () => {
    proxy.resume();
    await server?.kill();
  });
  afterAll(async () => {
    await proxy.close();
    rmSync(dir, { recursive: true, force: true });
    if (reachable) await dropSchema(schema);
  });

  async function readyz(): Promise<{ status: number; body: Record<string, unknown>; tookMs: number }> {
    const started = Date.now();
    // The bound is the test's, far above the server's 2 s ping bound: before the fix this aborted.
    const res = await fetch(`${server!.url}/readyz`, { signal: AbortSignal.timeout(8_000) });
    return { status: res.status, body: (await res.json()) as Record<string, unknown>, tookMs: Date.now() - started };
  }

  it('/readyz answers 503 within the ping bound while stalled, health says storage unreachable, and 200 once it answers again', async () => {
    server = await startServerProcess({ NLWEB_CHAT_CONFIG: path.join(dir, 'config.yaml') });
    expect((await readyz()).status).toBe(200);

    proxy.stall();
    const stalled = await readyz();
    expect(stalled.status).toBe(503);
    expect(stalled.body).toEqual({ status: 'not_ready', storage: 'disconnected', shutting_down: false });
    expect(stalled.tookMs).toBeLessThan(4_000);
    // A second probe while the first ping is still stuck answers the same, in the same bound.
    const again = await readyz();
    expect(again.status).toBe(503);
    expect(again.tookMs).toBeLessThan(4_000);
    const health = await fetch(`${server.url}/health/chat`);
    expect(health.status).toBe(503);
    expect(((await health.json()) as { reasons: string[] }).reasons).toContain('storage unreachable');

    proxy.resume();
    const back = await readyz();
    expect(back.status).toBe(200);
    expect(back.body).toEqual({ status: 'ready', storage: 'connected', shutting_down: false });
  }, 40_000);

  it('SIGTERM while PostgreSQL stalls: the flush deadline is reported with the unflushed count and the process exits 1, not by the hard guard', async () => {
    server = await startServerProcess({ NLWEB_CHAT_CONFIG: path.join(dir, 'short-deadline.yaml') });
    const created = await fetch(`${server.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ auto_join_agents: false }),
    });
    const conv = ((await created.json()) as { conversation_id: string }).conversation_id;
    const post = (id: string) =>
      fetch(`${server!.url}/chat/conversations/${conv}/messages?user_id=alice`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ message_id: id, content: id }),
      }).then(async (r) => ({ status: r.status, body: (await r.json()) as { persisted?: boolean } }));
    expect((await post('m1')).status).toBe(201);
    // A re-send answers whether it is stored yet (docs/http-api.md): wait until m1 is, so only m2 is left.
    let stored = false;
    for (let i = 0; i < 100 && !stored; i++) stored = (await post('m1')).body.persisted === true;
    expect(stored).toBe(true);

    proxy.stall();
    // Delivered and acknowledged (the reservation has room), but the journal cannot take it.
    expect(await post('m2')).toMatchObject({ status: 201, body: { persisted: false } });
    server.child.kill('SIGTERM');
    const exit = await server.exited;

    expect(exit.code).toBe(1);
    const messages = server.logs.map((l) => l.msg);
    expect(messages).toContain('shutdown deadline passed: 1 delivered message(s) were not persisted');
    expect(messages).toContain('shutdown incomplete');
    // Before, releasing claims and reservations waited for the stalled database until the guard
    // (deadline + 2 s) killed the process, and the unflushed count was never written.
    expect(messages).not.toContain('shutdown did not finish in time; exiting with unflushed state');
  }, 40_000);
});
