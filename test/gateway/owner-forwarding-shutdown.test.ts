import { createChatTelemetry } from '../../observability/chat-telemetry';
import { METRICS } from '../../observability/telemetry-names';
import type { TcpProxy } from '../client/real-server';
import { createTestMeterProvider } from '../observability/metric-collector';
import { closeAll, track } from './harness';
import { startOwnerPair } from './owner-pair';
import { connectClient } from './ws-test-client';

/**
 * The sockets a server forwards to their conversation's holder (`chat.ownership.forward`) are its clients' as much as
 * its own sockets are: /health/chat and nlweb_chat.connections.forwarded count them, and a graceful shutdown closes
 * them as it closes its own, 1001 GATEWAY_ERR_SHUTTING_DOWN, not by cutting the TCP connection (1006 to the client).
 */
describe('sockets forwarded to the holder: counted, and closed 1001 at shutdown', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  async function start() {
    const { meterProvider, collect } = createTestMeterProvider();
    // Presence goes offline as soon as the last socket closes: the holder's word that alice's connection ended.
    const pair = await startOwnerPair(
      { chat: { presence: { offline_grace_s: 0 } } },
      { other: { telemetry: createChatTelemetry({ meterProvider }) } },
    );
    proxies.push(pair.proxy);
    const conv = await pair.holder.createConversation('alice', ['bob']);
    return { ...pair, conv, collect };
  }

  test('/health/chat and the metric count them on the forwarding server, apart from its own connections', async () => {
    const { holder, other, conv, collect } = await start();
    expect((await collect()).value(METRICS.connectionsForwarded.name)).toBe(0);
    const alice = track(await connectClient(other.wsUrl(conv, 'alice')));
    await alice.waitFor('connected');
    const health = (await other.request('GET', '/health/chat')).body;
    expect(health).toMatchObject({ connections: 0, forwarded_connections: 1 });
    expect((await holder.request('GET', '/health/chat')).body).toMatchObject({ connections: 1, forwarded_connections: 0 });
    expect((await collect()).value(METRICS.connectionsForwarded.name)).toBe(1);
    expect((await collect()).value(METRICS.connectionsActive.name)).toBe(0);

    await alice.close();
    await other.server.close();
    expect(other.server.gateway.forwardedConnectionCount()).toBe(0);
    expect((await collect()).value(METRICS.connectionsForwarded.name)).toBe(0);
  });

  test("a graceful shutdown closes them 1001 GATEWAY_ERR_SHUTTING_DOWN, through the holder, which sees its client's socket close", async () => {
    const { holder, other, conv } = await start();
    const bob = await holder.connect(conv, 'bob');
    await bob.waitFor('connected');
    const alice = track(await connectClient(other.wsUrl(conv, 'alice')));
    await alice.waitFor('connected');
    await bob.waitFor('presence', (f) => f.participant_id === 'alice' && f.online);
    alice.send({ type: 'message', message_id: 'before', content: 'through the pipe' });
    await alice.waitFor('message_ack', (f) => f.message_id === 'before');
    await other.server.close();

    // The reason is the close frame the forwarding server sent the holder on alice's behalf, which the holder answered
    // with the same: it reached the holder whole (test/gateway/client-frame-gate.test.ts: never inside a frame of hers).
    expect(await alice.closed).toEqual({ code: 1001, reason: 'GATEWAY_ERR_SHUTTING_DOWN' });
    await bob.waitFor('presence', (f) => f.participant_id === 'alice' && !f.online);
    expect(holder.server.gateway.connectionCount()).toBe(1);
    expect(other.server.gateway.forwardedConnectionCount()).toBe(0);
  });
});
