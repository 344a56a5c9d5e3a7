import net from 'node:net';
import type { TcpProxy } from '../client/real-server';
import { closeAll, track } from './harness';
import { startOwnerPair } from './owner-pair';
import { connectClient } from './ws-test-client';

/**
 * A forwarded WebSocket's connection to the holder lives as long as the client's socket. The listeners that only
 * judge the connect (its timeout, its error) must be gone once it connected: left behind, each holds the failure
 * handler and, through it, the upgrade request, for the connection's whole life (per forwarded socket).
 */
describe('forwarded socket: the connect-phase listeners are removed once connected', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    jest.restoreAllMocks();
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  test('the upstream socket keeps no timeout listener and no timeout after the upgrade went through', async () => {
    const pair = await startOwnerPair({});
    proxies.push(pair.proxy);
    const conv = await pair.holder.createConversation('alice', ['bob']);
    const upstreams: net.Socket[] = [];
    const connect = net.connect.bind(net) as (options: net.NetConnectOpts) => net.Socket;
    jest.spyOn(net, 'connect').mockImplementation(((options: net.NetConnectOpts) => {
      const socket = connect(options);
      // Only the forwarder's connection to the holder (the test's client and the proxy connect too).
      if (/gateway[/\\]owner-forwarding\.ts/.test(new Error().stack ?? '')) upstreams.push(socket);
      return socket;
    }) as typeof net.connect);

    const alice = track(await connectClient(pair.other.wsUrl(conv, 'alice')));
    await alice.waitFor('connected');
    expect(upstreams).toHaveLength(1);
    const upstream = upstreams[0]!;
    expect(upstream.listenerCount('timeout')).toBe(0);
    expect(upstream.timeout ?? 0).toBe(0);
    // The pipe still works: a message goes through to the holder and is acked back.
    alice.send({ type: 'message', message_id: 'm1', content: 'through the pipe' });
    await alice.waitFor('message_ack', (f) => f.message_id === 'm1');
  });
});
