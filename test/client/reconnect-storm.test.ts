/**
 * A reconnect storm with the reference client on the real server: five clients lose their
 * connections at once, twice, while another participant keeps posting and the clients keep sending.
 * Every client must end with the whole journal, contiguous, nothing twice, and every sent message
 * must be in the journal exactly once.
 */
import { createChatClient, type ChatClient } from '../../client/chat-client';
import { collectMessages, nextEvent } from './client-events';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClientOptions } from './test-clients';

let stack: RealStack;
let proxy: TcpProxy;
const clients: ChatClient[] = [];

afterEach(async () => {
  for (const c of clients.splice(0)) c.close();
  await proxy?.close();
  await stack?.close();
});

test('all clients drop and reconnect at once, twice, while messages flow: no loss, no duplicate', async () => {
  const humans = ['h1', 'h2', 'h3', 'h4', 'h5'];
  stack = await startRealStack({ config: { chat: { limits: { rate_limit_per_second: 10_000, rate_limit_burst: 10_000 } } } });
  await stack.createConversation('conv', ['poster', ...humans]);
  proxy = await startTcpProxy(stack.port);
  const reconnects = new Map<string, number>();
  const logs = humans.map((h) => {
    // The client's own jitter (Math.random, its default) and the system clock: real time throughout.
    const c = createChatClient(
      testClientOptions(proxy.url, { conversationId: 'conv', userId: h, backoff: { initialMs: 5, maxMs: 50 }, random: Math.random }),
    );
    clients.push(c);
    c.on('connected', (info) => {
      if (info.reconnect) reconnects.set(h, (reconnects.get(h) ?? 0) + 1);
    });
    return collectMessages(c);
  });
  await Promise.all(clients.map((c) => c.connect()));

  const sends: Promise<unknown>[] = [];
  let back: Promise<unknown> = Promise.resolve();
  for (let i = 1; i <= 150; i++) {
    await stack.runtime.post('conv', { sender_id: 'poster', message_id: `p${i}`, content: `p${i}` });
    if (i % 10 === 0) clients.forEach((c, k) => sends.push(c.send(`${humans[k]}-${i}`)));
    if (i === 50 || i === 100) {
      // The second storm must find everybody connected again (posting goes on meanwhile).
      await back;
      back = Promise.all(clients.map((c) => nextEvent(c, 'connected')));
      proxy.cutAll();
    }
  }
  const acks = (await Promise.all(sends)) as { sequence_id: number }[];
  const journal = await stack.runtime.readMessages('conv', 0, 500);
  const last = journal[journal.length - 1]!.sequence_id;
  expect(journal.map((m) => m.sequence_id)).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  await Promise.all(logs.map((l) => l.waitFor(last)));

  for (const log of logs) expect(log.seqs).toEqual(Array.from({ length: last }, (_, i) => i + 1));
  const texts = journal.filter((m) => m.message_type === 'text').map((m) => m.content);
  expect(texts.filter((t) => t.startsWith('p'))).toHaveLength(150);
  for (const h of humans)
    expect(texts.filter((t) => t.startsWith(`${h}-`)).sort()).toEqual(Array.from({ length: 15 }, (_, i) => `${h}-${(i + 1) * 10}`).sort());
  expect(new Set(acks.map((a) => a.sequence_id)).size).toBe(acks.length);
  // Both storms really happened: every client came back twice.
  for (const h of humans) expect(reconnects.get(h)).toBe(2);
  console.log(`reconnect storm: ${[...reconnects.values()].join(',')} reconnects, ${last} records`);
}, 60_000);
