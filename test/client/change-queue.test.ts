/**
 * Edits and deletes made while the client is offline, or unanswered when its socket ended, against the real server
 * (127.0.0.1, port 0) through a TCP proxy that cuts the connection: they are kept, go after the reconnect in the order
 * the application made its calls (an edit of a message still in the outbox after that message's ack), an edit whose
 * record the resume replays is not sent again, and whatever is still queued when the client ends is reported once.
 * The clients' timers run on a manual clock (the reconnect's backoff is moved by hand); every other wait is for
 * something the client or the server sends.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientError, EditedEvent, RedactedEvent } from '../../client/chat-client';
import { nextEvent } from './client-events';
import type { LossyNetwork, WireFrame } from './lossy-websocket';
import { startLossyStack, stopLossyStack, lossyAlice, type LossyStack } from './lossy-alice';
import type { RealStack, TcpProxy } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let proxy: TcpProxy;
let clock: ManualClock;
let network: LossyNetwork;
let lossy: LossyStack;
const clients = testClients();

beforeEach(async () => {
  lossy = await startLossyStack();
  ({ stack, proxy, clock, network } = lossy);
});

afterEach(() => stopLossyStack(clients, lossy));

/** alice through the proxy and `network` (lossy-alice.ts). */
function alice(options: { maxRetries?: number } = {}): { client: ChatClient; errors: ChatClientError[] } {
  return lossyAlice(clients, lossy, options);
}

/** bob, connected straight to the server: he sees what the server did. */
async function bob(): Promise<{
  edited: EditedEvent[];
  redacted: RedactedEvent[];
  until(edits: number, redactions: number): Promise<void>;
}> {
  const client = clients.open(stack.wsUrl, { conversationId: 'conv', userId: 'bob', clock: createManualClock() });
  const edited: EditedEvent[] = [];
  const redacted: RedactedEvent[] = [];
  let check = (): void => {};
  client.on('edited', (e) => (edited.push(e), check()));
  client.on('redacted', (e) => (redacted.push(e), check()));
  await client.connect();
  return {
    edited,
    redacted,
    until: (edits, redactions) =>
      new Promise<void>((resolve) => {
        check = () => {
          if (edited.length >= edits && redacted.length >= redactions) resolve();
        };
        check();
      }),
  };
}

const changeFrames = (from = 0): WireFrame[] =>
  network.sent.slice(from).filter((f) => f.type === 'message' || f.type === 'edit' || f.type === 'delete');
const described = (frames: WireFrame[]): string[] => frames.map((f) => `${String(f.type)} ${String(f.message_id)}`);

async function storedTexts(): Promise<Record<string, string>> {
  const records = await stack.runtime.readMessages('conv', 0, 100);
  return Object.fromEntries(
    records.filter((m) => m.sender_id === 'alice' && m.message_type === 'text').map((m) => [m.message_id, m.content]),
  );
}

/** Cuts alice's connection and resolves once her client waits out the backoff. */
async function cut(client: ChatClient): Promise<void> {
  const reconnecting = nextEvent(client, 'reconnecting');
  proxy.cutAll();
  await reconnecting;
}

test('edits and a delete made while reconnecting are kept and go after the reconnect in call order: the edit of a message still in the outbox after its ack, a later message after them', async () => {
  const a = alice();
  const b = await bob();
  await a.client.connect();
  const one = await a.client.send('one');
  const two = await a.client.send('two');
  await cut(a.client);
  const before = network.sent.length;

  const three = a.client.send('three');
  expect(a.client.edit('a-3', 'three, edited')).toBe(true);
  expect(a.client.edit(one.message_id, 'one, edited')).toBe(true);
  expect(a.client.delete(two.message_id)).toBe(true);
  // A message sent after them goes after them.
  const four = a.client.send('four');
  expect(changeFrames(before)).toEqual([]);

  const seen = b.until(2, 1);
  clock.advance(1000);
  await three;
  await four;
  await seen;
  expect(described(changeFrames(before))).toEqual(['message a-3', 'edit a-3', 'edit a-1', 'delete a-2', 'message a-4']);
  expect(await storedTexts()).toEqual({ 'a-1': 'one, edited', 'a-2': '[redacted]', 'a-3': 'three, edited', 'a-4': 'four' });
  expect(b.edited.map((e) => e.content)).toEqual(['three, edited', 'one, edited']);
  expect(b.redacted).toHaveLength(1);
  // The edit of a-3 went once a-3 had its sequence id: the server refused nothing.
  expect(a.errors).toEqual([]);
});

test("online too: an edit of a message the outbox still holds (its window of 32 full) goes after that message's ack, not before", async () => {
  const a = alice();
  await a.client.connect();
  // 36 messages and the edit fit the default budget (a burst of 40): only the in-flight window holds a-33..a-36.
  const sends = Array.from({ length: 36 }, (_, i) => a.client.send(`m${i + 1}`));
  const edited = nextEvent(a.client, 'edited');
  expect(a.client.edit('a-36', 'm36, edited')).toBe(true);
  await Promise.all(sends);
  expect(await edited).toMatchObject({ messageId: 'a-36', content: 'm36, edited' });
  const frames = described(changeFrames());
  expect(frames.indexOf('edit a-36')).toBeGreaterThan(frames.indexOf('message a-36'));
  // Sent before a-36 existed, the server would have refused it (CHAT_ERR_FORBIDDEN: no such message).
  expect(a.errors).toEqual([]);
});

test('after a reconnect an edit the server never got goes again; one whose record was lost with the socket does not (the replay answers it)', async () => {
  const a = alice();
  const b = await bob();
  await a.client.connect();
  const one = await a.client.send('one');
  const two = await a.client.send('two');
  const aliceEdited: string[] = [];
  a.client.on('edited', (e) => aliceEdited.push(e.content));

  // The first edit reaches the server; its record never reaches alice.
  const lost = network.loseNext((f) => f.type === 'message' && (f.message as { message_type?: string }).message_type === 'edit');
  const firstDone = b.until(1, 0);
  expect(a.client.edit(one.message_id, 'one, edited')).toBe(true);
  await firstDone;
  await lost;
  // The second dies in the send buffer of the connection that is cut.
  network.loseNextSent((f) => f.type === 'edit');
  expect(a.client.edit(two.message_id, 'two, edited')).toBe(true);
  await cut(a.client);

  const secondDone = b.until(2, 0);
  const aliceSawBoth = new Promise<void>((resolve) => a.client.on('edited', () => aliceEdited.length >= 2 && resolve()));
  clock.advance(1000);
  await secondDone;
  await aliceSawBoth;
  expect(network.sent.filter((f) => f.type === 'edit').map((f) => f.content)).toEqual(['one, edited', 'two, edited', 'two, edited']);
  expect(aliceEdited).toEqual(['one, edited', 'two, edited']);
  expect(b.edited.map((e) => e.content)).toEqual(['one, edited', 'two, edited']);
  expect(await storedTexts()).toEqual({ 'a-1': 'one, edited', 'a-2': 'two, edited' });
  expect(a.errors).toEqual([]);
});

test('close() with changes still queued reports each once: an error event CLIENT_CLOSED with its replyTo and messageId; nothing is sent', async () => {
  const a = alice();
  await a.client.connect();
  const one = await a.client.send('one');
  await cut(a.client);
  const before = network.sent.length;
  expect(a.client.edit(one.message_id, 'one, edited')).toBe(true);
  expect(a.client.delete(one.message_id)).toBe(true);

  a.client.close();
  expect(a.errors.map((e) => [e.code, e.replyTo, e.messageId])).toEqual([
    ['CLIENT_CLOSED', 'edit', one.message_id],
    ['CLIENT_CLOSED', 'delete', one.message_id],
  ]);
  expect(a.errors[0].message).toContain('not sent');
  expect(a.client.edit(one.message_id, 'too late')).toBe(false);
  expect(a.client.delete(one.message_id)).toBe(false);
  expect(a.errors).toHaveLength(2);
  expect(changeFrames(before)).toEqual([]);
  expect(await storedTexts()).toEqual({ 'a-1': 'one' });
});

test('giving up after maxRetries reports an edit sent and never answered as unconfirmed, once', async () => {
  const a = alice({ maxRetries: 1 });
  await a.client.connect();
  const one = await a.client.send('one');
  network.loseNextSent((f) => f.type === 'edit');
  expect(a.client.edit(one.message_id, 'one, edited')).toBe(true);
  await cut(a.client);
  // The next attempt finds no proxy: refused, and the client gives up.
  await proxy.close();
  const closed = nextEvent(a.client, 'closed');
  clock.advance(1000);
  await closed;
  const reported = a.errors.filter((e) => e.replyTo === 'edit');
  expect(reported.map((e) => [e.code, e.messageId])).toEqual([['CLIENT_CLOSED', one.message_id]]);
  expect(reported[0].message).toContain('unconfirmed');
});
