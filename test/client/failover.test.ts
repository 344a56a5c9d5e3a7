/**
 * The reference client given two real servers on one store (port 0, dev auth, claims on): it connects through the
 * second url when the first is down (a closed port), and when the server it is on shuts down (1001) it moves to the
 * other one at once, resumes from its last sequence id and re-sends what was not acknowledged: every record arrives
 * once, in order, and each of its messages is stored once. The client's timers run on a manual clock, so the test
 * decides when its attempt goes (after the stopped server's runtime has released the conversation).
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient } from '../../client/chat-client';
import { MemoryStore } from '../../storage-providers';
import { collectMessages, nextEvent } from './client-events';
import { closedPortUrl } from './closed-port';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let store: MemoryStore;
let first: RealStack;
let second: RealStack;
let clock: ManualClock;
const clients = testClients();

beforeEach(async () => {
  clock = createManualClock();
  store = new MemoryStore({ claims: true });
  await store.open();
  const ownership = (id: string) => ({ chat: { ownership: { instance_id: id } } });
  first = await startRealStack({ store, config: ownership('first') });
  second = await startRealStack({ store, config: ownership('second') });
  // Created through the first: its runtime holds the conversation until it closes.
  await first.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await first.close();
  await second.close();
  await store.close();
});

function alice(urls: readonly string[]): ChatClient {
  return clients.open(urls, { conversationId: 'conv', userId: 'alice', clock, random: () => 0.5 });
}

/** The conversation's text records as the store has them (through the runtime that holds it). */
async function journal(stack: RealStack): Promise<{ sequence_id: number; sender_id: string; message_id: string; content: string }[]> {
  return (await stack.runtime.readMessages('conv', 0, 500, 'alice')).filter((m) => m.message_type === 'text');
}

test('the first url refuses connections: the client connects through the second at once and chats there', async () => {
  const down = await closedPortUrl();
  const c = alice([down, first.wsUrl]);
  const disconnected = nextEvent(c, 'disconnected');
  const reconnecting = nextEvent(c, 'reconnecting');
  const connected = c.connect();
  expect(await disconnected).toMatchObject({ code: 1006, willReconnect: true });
  expect(await reconnecting).toEqual({ attempt: 1, delayMs: 0, url: first.wsUrl });
  clock.advance(0);
  expect(await connected).toMatchObject({ url: first.wsUrl, reconnect: false });

  const ack = await c.send('through the second url');
  expect((await journal(first)).find((m) => m.sequence_id === ack.sequence_id)?.content).toBe('through the second url');
});

test('the server shuts down (1001): the client moves to the other one at once, resumes, and nothing is lost or doubled', async () => {
  const c = alice([first.wsUrl, second.wsUrl]);
  const seen = collectMessages(c);
  expect(await c.connect()).toMatchObject({ url: first.wsUrl });
  for (let i = 1; i <= 5; i++) await first.runtime.post('conv', { sender_id: 'bob', message_id: `b${i}`, content: `bob ${i}` });
  await c.send('alice before');
  await seen.waitForContent('alice before');

  const disconnected = nextEvent(c, 'disconnected');
  const reconnecting = nextEvent(c, 'reconnecting');
  // On the wire as the server stops: its ack may be lost with the socket, or it may never have been taken.
  const inFlight = c.send('alice in flight');
  await first.stopServer();
  expect(await disconnected).toMatchObject({ code: 1001, willReconnect: true });
  expect(await reconnecting).toEqual({ attempt: 1, delayMs: 0, url: second.wsUrl });
  // The stopped server's runtime lets the conversation go; the other takes it at its next request.
  await first.runtime.close({ deadlineMs: 2000 });
  const queued = c.send('alice while away');
  for (let i = 6; i <= 8; i++) await second.runtime.post('conv', { sender_id: 'bob', message_id: `b${i}`, content: `bob ${i}` });

  const resumed = nextEvent(c, 'connected');
  const delivered = c.lastSequenceId;
  expect(delivered).toBe(seen.seqs.at(-1));
  clock.advance(0);
  expect(await resumed).toMatchObject({ url: second.wsUrl, reconnect: true, resumedFrom: delivered });
  const [flight, away] = await Promise.all([inFlight, queued]);
  await seen.waitFor(Math.max(flight.sequence_id, away.sequence_id));

  const records = await journal(second);
  // Each of alice's messages stored once; the journal is whole, and the client has it all, once each, in order.
  const mine = records.filter((m) => m.sender_id === 'alice').map((m) => m.content);
  expect(mine.sort()).toEqual(['alice before', 'alice in flight', 'alice while away']);
  expect(records.map((m) => m.content).filter((t) => t.startsWith('bob'))).toEqual(Array.from({ length: 8 }, (_, i) => `bob ${i + 1}`));
  const lastSeq = records.at(-1)!.sequence_id;
  expect(seen.seqs).toEqual(Array.from({ length: lastSeq }, (_, i) => i + 1));
  expect(c.pendingCount).toBe(0);
});
