/**
 * In-process benchmarks of the conversation runtime (issue 2): routing latency against a plain
 * in-memory fan-out loop measured in the same run (interleaved), context building, sustained
 * throughput, and heap per idle conversation. Run: `npm run build && node --expose-gc dist/perf/core-bench.js`.
 */
import { join } from 'node:path';
import { createChatRuntime, createEchoAgent, type ChatMessage } from '../actors';
import { createInitialContext, planTurns, sequence, type ConversationPolicy } from '../actors/conversation-context';
import { MemoryStore } from '../storage-providers';
import { describeMachine, fmt, markdownTable, percentile, writeDocSection } from './bench-utils';

const quietConfig = { observability: { log_level: 'silent' as const }, chat: { supervision: { idle_timeout_s: 3600 } } };

async function routingLatency(participants: number, rounds: number): Promise<string[]> {
  const runtime = await createChatRuntime({ config: quietConfig, storage: new MemoryStore(), agents: [] });
  const humans = Array.from({ length: participants }, (_, i) => ({ participant_id: `h${i}`, participant_type: 'human' as const }));
  await runtime.createConversation({ conversation_id: 'bench', created_by: 'h0', participants: humans.slice(1) });
  let lastReceivedAt = 0;
  let received = 0;
  for (const h of humans) {
    await runtime.subscribe('bench', h.participant_id, (o) => {
      if (o.type === 'message') {
        received++;
        lastReceivedAt = performance.now();
      }
    });
  }
  // Baseline: the same fan-out as a plain loop calling N listeners with a frozen record.
  const plainListeners = humans.map(() => (m: ChatMessage) => {
    if (m.sequence_id > 0) lastPlainAt = performance.now();
  });
  let lastPlainAt = 0;
  const ours: number[] = [];
  const plain: number[] = [];
  for (let i = 0; i < rounds; i++) {
    const t0 = performance.now();
    received = 0;
    await runtime.post('bench', { sender_id: 'h0', message_id: `m${i}`, content: 'hello there' });
    if (received !== participants) throw new Error(`delivered to ${received} of ${participants}`);
    ours.push(lastReceivedAt - t0);
    const p0 = performance.now();
    const record = Object.freeze({
      message_id: `p${i}`,
      conversation_id: 'x',
      sequence_id: i + 1,
      sender_id: 'h0',
      sender_type: 'human' as const,
      message_type: 'text',
      content: 'hello there',
      timestamp: new Date().toISOString(),
      metadata: Object.freeze({}),
    });
    for (const l of plainListeners) l(record);
    plain.push(lastPlainAt - p0);
  }
  await runtime.close();
  const [o50, o99, b50, b99] = [percentile(ours, 50), percentile(ours, 99), percentile(plain, 50), percentile(plain, 99)];
  return [String(participants), fmt(o50 * 1000), fmt(o99 * 1000), fmt(b50 * 1000), fmt(b99 * 1000), fmt(o50 / b50), fmt(o99 / b99)];
}

function contextBuilding(window: number, history: number): string[] {
  const policy: ConversationPolicy = {
    maxParticipants: 100,
    humanContextSize: window,
    cacheSize: 100,
    dedupWindow: 10_000,
    chainLimit: 2,
    multiModeWindowMs: 2000,
    multiModeMaxWaitMs: 10_000,
    singleModeTypingWindowMs: 100,
  };
  let ctx = createInitialContext({
    conversationId: 'c',
    settings: {},
    policy,
    lastSequenceId: 0,
    participants: [
      { participant_id: 'h', participant_type: 'human', display_name: 'h', role: 'owner', joined_at_sequence: 1 },
      { participant_id: 'ai', participant_type: 'ai', display_name: 'ai', role: 'member', joined_at_sequence: 2, agent_id: 'ai' },
    ],
    recent: [],
  });
  const ts = new Date().toISOString();
  for (let i = 0; i < history; i++)
    ctx = sequence(ctx, [{ message_id: `m${i}`, sender_id: 'h', sender_type: 'human', message_type: 'text', content: `message ${i}` }], ts);
  const samples: number[] = [];
  for (let i = 0; i < 2000; i++) {
    const t0 = performance.now();
    const next = sequence(ctx, [{ message_id: `n${i}`, sender_id: 'h', sender_type: 'human', message_type: 'text', content: 'q' }], ts);
    planTurns(next, next.emitted[0], next.emitted, 0);
    samples.push(performance.now() - t0);
  }
  return [String(window), String(history), fmt(percentile(samples, 50) * 1000), fmt(percentile(samples, 99) * 1000)];
}

async function throughput(conversations: number, messages: number): Promise<string[]> {
  const runtime = await createChatRuntime({ config: quietConfig, storage: new MemoryStore(), agents: [createEchoAgent()] });
  for (let c = 0; c < conversations; c++) {
    await runtime.createConversation({
      conversation_id: `c${c}`,
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    await runtime.subscribe(`c${c}`, 'bob', () => undefined);
  }
  const t0 = performance.now();
  let last: Promise<void> = Promise.resolve();
  for (let i = 0; i < messages; i++) {
    const r = await runtime.post(`c${i % conversations}`, { sender_id: 'alice', message_id: `m${i}`, content: 'throughput' });
    last = r.whenPersisted;
    // Let the journal writers run now and then, as the event loop would between socket reads.
    if (i % 500 === 499) await new Promise((resolve) => setImmediate(resolve));
  }
  await last;
  const seconds = (performance.now() - t0) / 1000;
  await runtime.close();
  return [String(conversations), String(messages), fmt(messages / seconds, 0)];
}

async function heapPerIdleConversation(count: number): Promise<string[]> {
  const gc = (globalThis as { gc?: () => void }).gc;
  const runtime = await createChatRuntime({ config: quietConfig, storage: new MemoryStore(), agents: [] });
  gc?.();
  const before = process.memoryUsage().heapUsed;
  for (let c = 0; c < count; c++) {
    await runtime.createConversation({
      conversation_id: `c${c}`,
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    for (let i = 0; i < 10; i++)
      await runtime.post(`c${c}`, { sender_id: 'alice', message_id: `m${i}`, content: 'a typical short chat line' });
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  gc?.();
  const after = process.memoryUsage().heapUsed;
  await runtime.close();
  return [String(count), gc ? 'yes' : 'no (run with --expose-gc)', fmt((after - before) / count / 1024, 1)];
}

async function main(): Promise<void> {
  const routing = [];
  for (const n of [2, 10, 100]) routing.push(await routingLatency(n, n === 100 ? 2000 : 5000));
  const context = [contextBuilding(5, 100), contextBuilding(5, 10_000), contextBuilding(50, 10_000)];
  const rate = [await throughput(1, 20_000), await throughput(1000, 20_000)];
  const heap = [await heapPerIdleConversation(1000)];
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${describeMachine()}. In-process, memory storage, no gateway.`,
    '',
    '### Routing latency (post → last subscriber called), µs, vs a plain fan-out loop in the same run',
    markdownTable(['participants', 'p50', 'p99', 'plain p50', 'plain p99', 'ratio p50', 'ratio p99'], routing),
    '',
    'The plain loop only calls N listeners with a prebuilt record; ours also sequences, dedups, caches, queues the journal write and answers the sender.',
    '',
    '### Context building (sequence a message + plan agent turns), µs',
    markdownTable(['human window', 'history', 'p50', 'p99'], context),
    '',
    '### Sustained throughput (post awaited one at a time, journal written, echo agent present)',
    markdownTable(['conversations', 'messages', 'messages/s'], rate),
    '',
    '### Heap per live idle conversation (2 participants, 10 messages, cache + dedup index)',
    markdownTable(['conversations', 'gc exposed', 'KiB each'], heap),
  ].join('\n');
  console.log(body);
  writeDocSection(join(__dirname, '../../docs/benchmarks.md'), '## Core runtime', body);
}

void main();
