/**
 * The reference client settles a queued edit or delete on the server's `change_ack`, changed or not (docs/client.md,
 * Editing and deleting). Before, an edit to the same text or a delete of a deleted message (no record, no answer)
 * stayed queued: sent again after every reconnect, and reported "unconfirmed" when the client ended. Real server
 * (127.0.0.1, port 0) through a TCP proxy that cuts the connection; the client's timers run on a manual clock.
 * The queue's own rules for servers before the frame (records settle, an ack that follows a record settles nothing
 * else) are checked on createChangeQueue directly.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import { createChangeQueue } from '../../client/change-queue';
import type { ChatClient, ChatClientError } from '../../client/chat-client';
import { nextEvent } from './client-events';
import type { LossyNetwork, WireFrame } from './lossy-websocket';
import { startLossyStack, stopLossyStack, lossyAlice, type LossyStack } from './lossy-alice';
import type { TcpProxy } from './real-server';
import { testClients } from './test-clients';

let proxy: TcpProxy;
let clock: ManualClock;
let network: LossyNetwork;
let lossy: LossyStack;
const clients = testClients();

beforeEach(async () => {
  lossy = await startLossyStack();
  ({ proxy, clock, network } = lossy);
});

afterEach(() => stopLossyStack(clients, lossy));

/** alice through the proxy and `network` (lossy-alice.ts). */
function alice(): { client: ChatClient; errors: ChatClientError[] } {
  return lossyAlice(clients, lossy);
}

const ackOf = (type: 'edit' | 'delete', messageId: string, changed: boolean) => (f: WireFrame) =>
  f.type === 'change_ack' && f.reply_to === type && f.message_id === messageId && f.changed === changed;
const sentChanges = (): string[] =>
  network.sent.filter((f) => f.type === 'edit' || f.type === 'delete').map((f) => `${String(f.type)} ${String(f.message_id)}`);

test('an edit to the same text and a second delete are settled by their change_ack (changed false): nothing is unconfirmed at close', async () => {
  const { client, errors } = alice();
  await client.connect();
  const hello = await client.send('hello');

  expect(client.edit(hello.message_id, 'hello')).toBe(true);
  await network.handled(ackOf('edit', hello.message_id, false));
  const redacted = nextEvent(client, 'redacted');
  expect(client.delete(hello.message_id)).toBe(true);
  await redacted;
  await network.handled(ackOf('delete', hello.message_id, true));
  expect(client.delete(hello.message_id)).toBe(true);
  await network.handled(ackOf('delete', hello.message_id, false));

  client.close();
  // Before: "edit of a-1 unconfirmed" and "delete of a-1 unconfirmed" (CLIENT_CLOSED) here.
  expect(errors.map((e) => e.message)).toEqual([]);
  expect(sentChanges()).toEqual(['edit a-1', 'delete a-1', 'delete a-1']);
});

test('an edit the server applied whose ack was lost with the socket is sent again after the reconnect and settled by that ack', async () => {
  const { client, errors } = alice();
  await client.connect();
  const hello = await client.send('hello');

  // The same text: applied already (nothing to change), so the resume replays no record that could answer it.
  const lost = network.loseNext(ackOf('edit', hello.message_id, false));
  client.edit(hello.message_id, 'hello');
  await lost;
  const reconnecting = nextEvent(client, 'reconnecting');
  proxy.cutAll();
  await reconnecting;
  const connected = nextEvent(client, 'connected');
  clock.advance(1000);
  await connected;
  await network.handled(ackOf('edit', hello.message_id, false));
  expect(sentChanges()).toEqual(['edit a-1', 'edit a-1']);

  // Settled: a second cut sends nothing again, and close() reports nothing.
  const again = nextEvent(client, 'reconnecting');
  proxy.cutAll();
  await again;
  const back = nextEvent(client, 'connected');
  clock.advance(1000);
  await back;
  expect(await client.send('after')).toMatchObject({ message_id: 'a-2' });
  expect(sentChanges()).toEqual(['edit a-1', 'edit a-1']);
  client.close();
  expect(errors.map((e) => e.message)).toEqual([]);
});

describe('change queue answers', () => {
  /** A queue whose frames always go; what it reports at the end is returned by `end()`. */
  function queue() {
    const sent: string[] = [];
    const unsettled: string[] = [];
    const q = createChangeQueue({
      clock: createManualClock(),
      pacer: { waitMs: () => 0, spend: () => undefined },
      canSend: () => true,
      sendFrame: (f) => (sent.push(f.type), true),
      messagesBefore: () => false,
      released: () => undefined,
      frameProblem: () => undefined,
      sequenceOf: (id) => (id === 'm1' ? 5 : undefined),
      emitUnsettled: (e) => unsettled.push(String(e.messageId)),
    });
    return { q, sent, unsettled };
  }

  test('servers before change_ack: the record settles an edit and a delete, as before', () => {
    const { q } = queue();
    q.add({ type: 'edit', message_id: 'm1', content: 'v1' }, 1);
    q.add({ type: 'delete', message_id: 'm1' }, 2);
    q.onEdited('m1', 'v1');
    expect(q.size).toBe(1);
    q.onRedacted([5, 6]);
    expect(q.size).toBe(0);
  });

  test('the ack that follows a record settles nothing else: the next edit of the message waits for its own answer', () => {
    const { q } = queue();
    q.add({ type: 'edit', message_id: 'm1', content: 'v1' }, 1);
    q.add({ type: 'edit', message_id: 'm1', content: 'v2' }, 2);
    q.onEdited('m1', 'v1');
    q.onAcked('edit', 'm1');
    // Before the note: the ack of v1 settled v2, which a cut socket would then never send again.
    expect(q.size).toBe(1);
    q.onAcked('edit', 'm1');
    expect(q.size).toBe(0);
  });

  test("another tab's record settles a sent edit first: that edit's own answer (ack or refusal) settles nothing else", () => {
    for (const answer of ['ack', 'refusal'] as const) {
      const { q } = queue();
      q.add({ type: 'edit', message_id: 'm1', content: 'v2' }, 1);
      q.add({ type: 'edit', message_id: 'm1', content: 'v3' }, 2);
      // The user's other tab made the same edit first: its record settles v2 here.
      q.onEdited('m1', 'v2');
      expect(q.size).toBe(1);
      // v2's own answer: an ack (changed false, the text was v2 already; or changed, with another record id, when the
      // other tab changed it again before v2 went through), or a refusal.
      if (answer === 'ack') q.onAcked('edit', 'm1');
      else q.onRefused('edit', 'm1');
      // Before: v3, still unanswered, was settled (a cut socket would then never send it again).
      expect({ answer, size: q.size }).toEqual({ answer, size: 1 });
      q.onAcked('edit', 'm1');
      expect({ answer, size: q.size }).toEqual({ answer, size: 0 });
    }
  });

  test("a delete's record settles the edit of its message sent before it: the edit's answer settles nothing else", () => {
    const { q } = queue();
    q.add({ type: 'edit', message_id: 'm1', content: 'v2' }, 1);
    q.add({ type: 'delete', message_id: 'm1' }, 2);
    q.add({ type: 'edit', message_id: 'm1', content: 'v3' }, 3);
    // The delete's record (this client's) settles the delete and the edit sent before it.
    q.onRedacted([5]);
    expect(q.size).toBe(1);
    q.onAcked('edit', 'm1');
    expect(q.size).toBe(1);
  });

  test('an ack without a record before it (changed false, or its record not seen) settles the oldest such change on the socket', () => {
    const { q, unsettled } = queue();
    q.add({ type: 'delete', message_id: 'm2' }, 1);
    q.add({ type: 'delete', message_id: 'm1' }, 2);
    q.onAcked('delete', 'm1');
    expect(q.size).toBe(1);
    q.onAcked('edit', 'm2');
    expect(q.size).toBe(1);
    q.onAcked('delete', 'm2');
    expect(q.size).toBe(0);
    expect(unsettled).toEqual([]);
  });
});
