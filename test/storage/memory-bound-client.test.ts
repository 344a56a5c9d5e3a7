/**
 * The reference client against the real server on a bounded memory journal: reconnecting from before
 * the records the bound dropped, the application learns that range is gone (`sync` with recovered:
 * false), gets every record still held, once and in order, and live records follow.
 */
import { WebSocket } from 'ws';
import { createChatRuntime, createManualClock } from '../../actors';
import { createChatClient, type ChatClient, type WebSocketConstructor } from '../../client/chat-client';
import { createChatServer, type ChatServer } from '../../gateway';
import { MemoryStore } from '../../storage-providers';
import { collectMessages, nextEvent } from '../client/client-events';
import { benchConfig } from '../client/real-server';

/** A WebSocket that records the frames the client sends (to see that it never asks for a sync of its own). */
function recordingSocket(sent: string[]): WebSocketConstructor {
  class RecordingSocket extends WebSocket {
    override send(data: unknown, ...rest: unknown[]): void {
      sent.push(String(data));
      (super.send as (...a: unknown[]) => void)(data, ...rest);
    }
  }
  return RecordingSocket as unknown as WebSocketConstructor;
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describe('reference client resuming across records the memory bound dropped', () => {
  const closers: Array<() => unknown> = [];
  afterEach(async () => {
    for (const close of closers.splice(0).reverse()) await close();
  });

  test('sync recovered: false for the dropped range, then every held record once, then live records', async () => {
    const config = benchConfig({ chat: { cache: { recent_messages: 5 } } });
    const store = new MemoryStore({ maxRecordsPerConversation: 20 });
    await store.open();
    closers.push(() => store.close());
    const runtime = await createChatRuntime({ config, storage: store, agents: [] });
    closers.push(() => runtime.close({ deadlineMs: 2000 }));
    const server: ChatServer = createChatServer({ runtime, config });
    const { port } = await server.listen();
    closers.push(() => server.close());

    await runtime.createConversation({
      conversation_id: 'conv',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
      autoJoinAgents: false,
    });
    let last = 0;
    for (let i = 0; last < 50; i++) {
      const r = await runtime.post('conv', { sender_id: 'alice', message_id: `m${i}`, content: `m${i}` });
      await r.whenPersisted;
      last = r.sequence_id;
    }
    const oldest = (await store.readMessages('conv', 0, 1))[0].sequence_id;
    expect(oldest).toBeGreaterThan(30);

    const clock = createManualClock();
    const sent: string[] = [];
    const bob: ChatClient = createChatClient({
      url: `ws://127.0.0.1:${port}`,
      conversationId: 'conv',
      userId: 'bob',
      WebSocketImpl: recordingSocket(sent),
      clock,
      random: () => 0,
      pingIntervalMs: 0,
      lastSequenceId: 3,
    });
    closers.push(() => bob.close());
    const got = collectMessages(bob);
    const syncs: Array<{ from: number; to: number; recovered: boolean }> = [];
    bob.on('sync', (s) => void syncs.push(s));
    const synced = nextEvent(bob, 'sync', (s) => s.recovered);
    await bob.connect();
    expect(await synced).toEqual({ from: oldest, to: 50, recovered: true });
    expect(syncs).toEqual([
      { from: 4, to: oldest - 1, recovered: false },
      { from: oldest, to: 50, recovered: true },
    ]);
    await runtime.post('conv', { sender_id: 'alice', message_id: 'live', content: 'live' });
    await got.waitFor(51);
    expect(got.seqs).toEqual(range(oldest, 51));
    // The client skipped the gap it was told about: no `sync` of its own, nothing sent twice.
    expect(sent.filter((f) => f.includes('"type":"sync"'))).toEqual([]);
    expect(bob.duplicatesDropped).toBe(0);
  });
});
