/**
 * An edit waits for the message it edits even when that message had a sequence id before the connection ended: a
 * message acknowledged but not yet persisted is sent again after the reconnect (outbox.ts, requeueAcked), and until
 * that re-send is acknowledged its old sequence id says nothing about the server now connected to (after a failover
 * or a crash the record may be gone, and an edit arriving first is refused CHAT_ERR_FORBIDDEN: no such message).
 * Real server (127.0.0.1, port 0) through a TCP proxy that cuts the connection; the journal's writes are held so the
 * acks say persisted false; the client's timers run on a manual clock.
 */
import type { ChatMessage } from '../../actors/message-types';
import { createManualClock, type ManualClock } from '../../actors/clock';
import { MemoryStore } from '../../storage-providers';
import { nextEvent } from './client-events';
import { lossyNetwork, type LossyNetwork } from './lossy-websocket';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

/** A memory journal whose writes wait while held: acks say persisted false. */
class HeldJournal extends MemoryStore {
  private gate: Promise<void> | undefined;
  private release: () => void = () => undefined;
  hold(): void {
    this.gate = new Promise((resolve) => (this.release = resolve));
  }
  releaseWrites(): void {
    this.gate = undefined;
    this.release();
  }
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    if (this.gate) await this.gate;
    await super._appendMessages(conversationId, messages);
  }
}

let store: HeldJournal;
let stack: RealStack;
let proxy: TcpProxy;
let clock: ManualClock;
let network: LossyNetwork;
const clients = testClients();

beforeEach(async () => {
  clock = createManualClock();
  network = lossyNetwork();
  store = new HeldJournal();
  await store.open();
  // A budget the 33 messages, their 33 re-sends and the edit fit: only the in-flight window (32) holds a message back.
  stack = await startRealStack({ store, config: { chat: { limits: { rate_limit_burst: 1000 } } } });
  proxy = await startTcpProxy(stack.port);
  await stack.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  store.releaseWrites();
  clients.closeAll();
  await proxy.close();
  await stack.close();
  await store.close();
});

test("an edit made offline of a message acknowledged but not persisted goes after that message's re-send is acknowledged, not before it", async () => {
  let n = 0;
  const client = clients.open(proxy.url, {
    conversationId: 'conv',
    userId: 'alice',
    clock,
    WebSocketImpl: network.WebSocketImpl,
    generateId: () => `a-${++n}`,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
  });
  const errors: string[] = [];
  client.on('error', (e) => errors.push(`${e.code} ${e.replyTo ?? ''} ${e.messageId ?? ''}`));
  await client.connect();
  store.hold();
  const results = await Promise.all(Array.from({ length: 33 }, (_, i) => client.send(`m${i + 1}`)));
  expect(results.every((r) => !r.persisted)).toBe(true);
  const reconnecting = nextEvent(client, 'reconnecting');
  proxy.cutAll();
  await reconnecting;
  store.releaseWrites();
  const before = network.sent.length;

  // The edit of the 33rd, made after it was sent: on the reconnect the window (32) lets a-1..a-32 go again at once and
  // holds a-33 until one of them is acknowledged. Before: its old sequence id let the edit go ahead of it.
  expect(client.edit('a-33', 'm33, edited')).toBe(true);
  const edited = nextEvent(client, 'edited');
  clock.advance(1000);
  expect(await edited).toMatchObject({ messageId: 'a-33', content: 'm33, edited' });

  const order = network.sent
    .slice(before)
    .filter((f) => f.type === 'message' || f.type === 'edit')
    .map((f) => `${String(f.type)} ${String(f.message_id)}`);
  expect(order.filter((f) => f.endsWith(' a-33'))).toEqual(['message a-33', 'edit a-33']);
  expect(order).toHaveLength(34);
  expect(errors).toEqual([]);
});
