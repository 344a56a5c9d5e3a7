/**
 * Regression (audit, real processes): a server that crashed during a storage outage hands out again, after its
 * restart, ids its clients already received. The reference client resumed with its last id and kept other records
 * under those ids. It now names its last record on resume; the server answers a diverged history with a `reset`
 * frame, the client emits `reset` and the replay that follows brings the journal's records in their place.
 * Real servers on one store (the first never closed: its runtime is what a kill -9 leaves), a TCP proxy as the
 * address that stays, the reference client over real ws.
 */
import type { ChatMessage } from '../../actors';
import { createManualClock } from '../../actors/clock';
import { LEASE_BLOCK } from '../../actors/sequence-lease';
import { nextEvent } from './client-events';
import { freeCrashedServer, OutageMemoryStore, type CrashedServer } from './outage-store';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

const clients = testClients();
const stacks: RealStack[] = [];
let proxy: TcpProxy | undefined;
let store: OutageMemoryStore;

/** The crashed server's runtime, closed at the end only to free it: its manual clock moves the close's deadline. */
let crashed: CrashedServer | undefined;

afterEach(async () => {
  clients.closeAll();
  await proxy?.close();
  for (const s of stacks.splice(0)) await s.close();
  if (crashed !== undefined) await freeCrashedServer(crashed);
  crashed = undefined;
  await store.close();
});

test('a client whose records were handed out again after a crash is reset and ends with exactly the journal', async () => {
  store = new OutageMemoryStore();
  await store.open();
  const firstClock = createManualClock();
  const first = await startRealStack({ store, runtimeClock: firstClock });
  crashed = { stack: first, clock: firstClock };
  await first.createConversation('conv', ['alice', 'bob']);
  let port = first.port;
  proxy = await startTcpProxy(() => port);

  const alice = clients.open(proxy.url.replace(/^http/, 'ws'), {
    conversationId: 'conv',
    userId: 'alice',
    clock: createManualClock(),
    lastSequenceId: 0,
  });
  /** What alice's application shows: records appended on `message`, cut back on `reset`. */
  let view: ChatMessage[] = [];
  const resets: Array<{ after: number; lastSequenceId: number }> = [];
  alice.on('message', (m) => view.push(m));
  alice.on('reset', (r) => {
    resets.push(r);
    view = view.filter((m) => m.sequence_id <= r.after);
  });
  const synced = nextEvent(alice, 'sync');
  await alice.connect();
  await synced;
  const storedUpTo = (await first.runtime.getConversation('conv')).last_sequence_id;

  store.down = true;
  let last = 0;
  for (let i = 0; i < 3 * LEASE_BLOCK; i++) {
    last = (await first.runtime.post('conv', { sender_id: 'bob', message_id: `b${i}`, content: `before ${i}` })).sequence_id;
    await settle(2);
  }
  while ((alice.lastSequenceId ?? 0) < last) await nextEvent(alice, 'message');
  const aliceLast = view.at(-1)!;

  // kill -9: the first server goes (its runtime is never closed, its reservation never released); storage is back.
  const gone = nextEvent(alice, 'disconnected');
  await first.stopServer();
  await gone;
  store.down = false;
  const second = await startRealStack({ store });
  stacks.push(second);
  port = second.port;
  let next = { sequence_id: 0, whenPersisted: Promise.resolve() as Promise<unknown> };
  for (let i = 0; next.sequence_id < aliceLast.sequence_id + 3; i++) {
    next = await second.runtime.post('conv', { sender_id: 'bob', message_id: `a${i}`, content: `after ${i}` });
  }
  await next.whenPersisted;
  const journal = await store.readMessages('conv', 0, 10_000);
  expect(journal.find((m) => m.sequence_id === aliceLast.sequence_id)!.message_id).not.toBe(aliceLast.message_id);

  const resynced = nextEvent(alice, 'sync');
  alice.reconnectNow();
  await resynced;
  while ((alice.lastSequenceId ?? 0) < journal.at(-1)!.sequence_id) await nextEvent(alice, 'message');
  expect(resets).toEqual([{ after: storedUpTo, lastSequenceId: aliceLast.sequence_id }]);
  const key = (m: ChatMessage): string => `${m.sequence_id} ${m.sender_id} ${m.message_id} ${m.content}`;
  expect(view.map(key)).toEqual(journal.map(key));
});
