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
    writeFileSync(
      path.join(dir, 'config.yaml'),
      [
        'server: { auth: { mode: dev } }',
        'chat:',
        '  storage:',
        '    backend: postgres',
        `    postgres: { url: '${url.toString()}', schema: ${schema}, pool_size: 4 }`,
        '  nlweb: { endpoints: [], standin: { enabled: false } }',
        'observability: { log_level: warn, metrics: { enabled: false } }',
        '',
      ].join('\n'),
    );
  });
  afterAll(async () => {
    await server?.kill();
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
});
