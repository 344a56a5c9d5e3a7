/**
 * The reference client's `history` option against the REAL server: the first connection gets the last N records
 * and the `sync` event says older ones exist; a reconnect resumes from the last delivered id, not from `history`.
 * The clients' timers run on a manual clock (reconnect backoff), so nothing waits on a sleep.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientOptions } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let proxy: TcpProxy | undefined;
let clock: ManualClock;
const clients = testClients();

function client(extra: Partial<ChatClientOptions>): ChatClient {
  return clients.open(stack.wsUrl, { conversationId: 'conv', userId: 'alice', clock, ackIntervalMs: 10, ...extra });
}

/** Posts `count` records of bob; returns the last id. */
async function postMany(count: number, prefix = 'p'): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++)
    last = (await stack.runtime.post('conv', { sender_id: 'bob', message_id: `${prefix}${i}`, content: `${prefix}${i}` })).sequence_id;
  return last;
}

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

beforeEach(async () => {
  clock = createManualClock();
  proxy = undefined;
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await proxy?.close();
  await stack.close();
});

test('history: 10 delivers the last 10 records, then live; the sync event says earlier ones exist', async () => {
  const last = await postMany(40);
  const alice = client({ history: 10 });
  const got = collectMessages(alice);
  const sync = nextEvent(alice, 'sync');
  const info = await alice.connect();
  expect(info.serverLastSequenceId).toBe(last);
  expect(await sync).toEqual({ from: last - 9, to: last, recovered: true, hasEarlier: true });
  await got.waitFor(last);
  expect(got.seqs).toEqual(range(last - 9, last));
  expect(alice.lastSequenceId).toBe(last);
  const live = await postMany(1, 'live');
  await got.waitFor(live);
  expect(got.seqs).toEqual(range(last - 9, live));
  // No sync was asked for a gap before the first replayed record, and nothing came twice.
  expect(alice.duplicatesDropped).toBe(0);
});

test('a reconnect resumes from the last delivered id, whatever history says', async () => {
  await postMany(30);
  proxy = await startTcpProxy(stack.port);
  const alice = client({ url: proxy.url, history: 3 });
  const got = collectMessages(alice);
  const firstSync = nextEvent(alice, 'sync');
  await alice.connect();
  const first = await firstSync;
  expect(first.hasEarlier).toBe(true);
  await got.waitFor(first.to);
  const reconnecting = nextEvent(alice, 'reconnecting');
  proxy.cutAll();
  await reconnecting;
  // Away for 20 records: all of them come back, not only the last 3.
  const last = await postMany(20, 'away');
  const resumed = nextEvent(alice, 'connected');
  const sync = nextEvent(alice, 'sync');
  clock.advance(1000);
  expect(await resumed).toMatchObject({ reconnect: true, resumedFrom: first.to });
  expect(await sync).toEqual({ from: first.to + 1, to: last, recovered: true });
  await got.waitFor(last);
  expect(got.seqs).toEqual(range(first.to - 2, last));
});

test('with lastSequenceId, history bounds what comes after it; with a conversation shorter than history, nothing is left out', async () => {
  const last = await postMany(30);
  const behind = client({ lastSequenceId: 5, history: 4 });
  const gotBehind = collectMessages(behind);
  const syncBehind = nextEvent(behind, 'sync');
  await behind.connect();
  expect(await syncBehind).toEqual({ from: last - 3, to: last, recovered: true, hasEarlier: true });
  await gotBehind.waitFor(last);
  expect(gotBehind.seqs).toEqual(range(last - 3, last));

  const whole = client({ history: 1000 });
  const gotWhole = collectMessages(whole);
  const syncWhole = nextEvent(whole, 'sync');
  await whole.connect();
  expect(await syncWhole).toEqual({ from: 1, to: last, recovered: true, hasEarlier: false });
  await gotWhole.waitFor(last);
  expect(gotWhole.seqs).toEqual(range(1, last));
});
