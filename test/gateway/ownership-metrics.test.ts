import { createChatTelemetry } from '../../observability/chat-telemetry';
import { METRICS } from '../../observability/telemetry-names';
import { MemoryStore } from '../../storage-providers';
import type { TcpProxy } from '../client/real-server';
import { createTestMeterProvider, type Collected } from '../observability/metric-collector';
import { closeAll, closedPort, startHarness, track } from './harness';
import { getOnce, startOwnerPair, startPairPublishing } from './owner-pair';
import { connectClient, refusedStatus } from './ws-test-client';

/**
 * The gateway's ownership metrics, on real servers sharing one store: requests and upgrades forwarded to the holder
 * (nlweb_chat.ownership.forwards{transport, outcome}) and those answered 421 (nlweb_chat.ownership.refusals{transport}).
 */
describe('ownership metrics of the gateway', () => {
  const proxies: TcpProxy[] = [];
  afterEach(async () => {
    await closeAll();
    for (const p of proxies.splice(0)) await p.close();
  });

  function meter() {
    const { meterProvider, collect } = createTestMeterProvider();
    return { telemetry: createChatTelemetry({ meterProvider }), collect };
  }

  async function counts(collect: () => Promise<Collected>) {
    const c = await collect();
    const forwards = (transport: string, outcome: string) => c.value(METRICS.ownershipForwards.name, { transport, outcome });
    const refusals = (transport: string) => c.value(METRICS.ownershipRefusals.name, { transport });
    return {
      forwardedWs: forwards('websocket', 'ok'),
      failedWs: forwards('websocket', 'error'),
      forwardedHttp: forwards('http', 'ok'),
      failedHttp: forwards('http', 'error'),
      refusedWs: refusals('websocket'),
      refusedHttp: refusals('http'),
    };
  }
  const NONE = { forwardedWs: 0, failedWs: 0, forwardedHttp: 0, failedHttp: 0, refusedWs: 0, refusedHttp: 0 };

  test('forwards to a live holder count as ok, by transport; nothing is refused', async () => {
    const { telemetry, collect } = meter();
    const pair = await startOwnerPair({}, { other: { telemetry } });
    proxies.push(pair.proxy);
    const conv = await pair.holder.createConversation('alice', ['bob']);
    expect(await counts(collect)).toEqual(NONE);
    const alice = track(await connectClient(pair.other.wsUrl(conv, 'alice')));
    await alice.waitFor('connected');
    expect(await getOnce(pair.other, `/chat/conversations/${conv}`, 'alice')).toBe(200);
    expect(await getOnce(pair.other, `/chat/conversations/${conv}/messages`, 'bob')).toBe(200);
    expect(await counts(collect)).toEqual({ ...NONE, forwardedWs: 1, forwardedHttp: 2 });
  });

  test('a holder that cannot be reached: each attempt a failed forward and a 421', async () => {
    const { telemetry, collect } = meter();
    const { holder, other } = await startPairPublishing(`ws://127.0.0.1:${await closedPort()}`, {}, { other: { telemetry } });
    const conv = await holder.createConversation('alice', ['bob']);
    expect(await refusedStatus(other.wsUrl(conv, 'alice'))).toBe(421);
    expect(await refusedStatus(other.wsUrl(conv, 'bob'))).toBe(421);
    expect(await getOnce(other, `/chat/conversations/${conv}`, 'alice')).toBe(421);
    expect(await counts(collect)).toEqual({ ...NONE, failedWs: 2, failedHttp: 1, refusedWs: 2, refusedHttp: 1 });
  });

  test('without forwarding: the 421s only', async () => {
    const { telemetry, collect } = meter();
    const store = new MemoryStore({ claims: true });
    const ownership = (id: string) => ({ chat: { ownership: { instance_id: id, address: `ws://${id}.invalid` } } });
    const holder = await startHarness(ownership('holder'), { store });
    const other = await startHarness(ownership('other'), { store, telemetry });
    const conv = await holder.createConversation('alice', ['bob']);
    expect(await refusedStatus(other.wsUrl(conv, 'alice'))).toBe(421);
    expect(await getOnce(other, `/chat/conversations/${conv}/messages`, 'bob')).toBe(421);
    expect(await getOnce(other, `/chat/conversations/${conv}`, 'bob')).toBe(421);
    expect(await counts(collect)).toEqual({ ...NONE, refusedWs: 1, refusedHttp: 2 });
    // Answers of its own conversations are no refusals.
    const own = await other.createConversation('carol');
    expect(await getOnce(other, `/chat/conversations/${own}`, 'carol')).toBe(200);
    expect(await counts(collect)).toEqual({ ...NONE, refusedWs: 1, refusedHttp: 2 });
  });
});
