/**
 * server.idle_timeout_s against the binary's second listener: with observability.metrics.port set, the metrics are
 * served by a server of their own (observability/setup-sdk.ts), reachable like the API port. A TCP connection that
 * sends nothing must be closed there too, or the silent connections the API port now closes could be held on it,
 * using up the same process's file descriptors.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { idleLifetime } from '../gateway/idle-socket';
import { startServerProcess, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

/** A port free a moment ago (metrics.port 0 means "on the main server", so the test must name one). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((r) => probe.listen(0, '127.0.0.1', r));
  const { port } = probe.address() as AddressInfo;
  await new Promise((r) => probe.close(r));
  return port;
}

describe('server.idle_timeout_s on the separate metrics port', () => {
  let dir: string;
  const servers: ServerProcess[] = [];
  beforeEach(() => (dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-metrics-idle-'))));
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => s.kill()));
    rmSync(dir, { recursive: true, force: true });
  });

  it('a connection to the metrics port that sends nothing is closed after the idle time, as on the API port', async () => {
    const file = path.join(dir, 'config.yaml');
    writeFileSync(file, `server:\n  idle_timeout_s: 0.3\nobservability:\n  metrics:\n    port: ${await freePort()}\n`);
    const server = await startServerProcess({ NLWEB_CHAT_CONFIG: file });
    servers.push(server);
    const metricsUrl = server.logs.find((l) => l.msg === 'nlweb-chat ready')?.metrics;
    expect(typeof metricsUrl).toBe('string');
    expect(new URL(metricsUrl as string).port).not.toBe(String(server.port));
    expect(await idleLifetime(server.url, 10_000)).toBeGreaterThanOrEqual(250);
    expect(await idleLifetime(metricsUrl as string, 10_000)).toBeGreaterThanOrEqual(250);
    // Still served: the bound closes silent connections, not the scraper's.
    expect((await fetch(metricsUrl as string)).status).toBe(200);
  });
});
