/**
 * Issue 5's question: does durable storage cost delivery latency? Persistence is off the delivery
 * path, so it should not. Three runtimes (memory, SQLite file, PostgreSQL) take the same posts,
 * interleaved round by round; we report routing latency (post → last of 2 subscribers called) and
 * the journal's lag behind delivery, as ratios to memory measured in the same run.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Client } from 'pg';
import { createChatRuntime } from '../actors';
import { MemoryStore, PostgresStore, SqliteStore, type ChatStore } from '../storage-providers';
import { describeMachine, fmt, markdownTable, percentile, writeDocSection } from './bench-utils';

const ROUNDS = 3000;
const PG_URL = process.env.NLWEB_CHAT_POSTGRES_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

interface Side {
  name: string;
  store: ChatStore;
  runtime: Awaited<ReturnType<typeof createChatRuntime>>;
  latencies: number[];
  persistLags: number[];
  lastAt: number;
}

async function side(name: string, store: ChatStore): Promise<Side> {
  const runtime = await createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: store, agents: [] });
  await runtime.createConversation({
    conversation_id: 'bench',
    created_by: 'alice',
    participants: [{ participant_id: 'bob', participant_type: 'human' }],
  });
  const s: Side = { name, store, runtime, latencies: [], persistLags: [], lastAt: 0 };
  for (const who of ['alice', 'bob']) {
    await runtime.subscribe('bench', who, (o) => {
      if (o.type === 'message') s.lastAt = performance.now();
    });
  }
  return s;
}

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'durable-bench-'));
  const schema = `nlweb_chat_bench_${process.pid}`;
  let pgAvailable = true;
  const admin = new Client({ connectionString: PG_URL });
  await admin.connect().catch(() => (pgAvailable = false));
  const sides: Side[] = [await side('memory', new MemoryStore()), await side('sqlite', new SqliteStore({ path: join(dir, 'bench.db') }))];
  if (pgAvailable) sides.push(await side('postgres', new PostgresStore({ url: PG_URL, schema })));
  try {
    for (let i = 0; i < ROUNDS; i++) {
      // Posts arrive from sockets (macrotasks) in a real server; yield so journal I/O can run.
      await new Promise((resolve) => setImmediate(resolve));
      for (const s of sides) {
        const t0 = performance.now();
        const r = await s.runtime.post('bench', { sender_id: 'alice', message_id: `m${i}`, content: 'latency probe' });
        s.latencies.push(s.lastAt - t0);
        if (i % 10 === 0) {
          const delivered = performance.now();
          void r.whenPersisted.then(() => s.persistLags.push(performance.now() - delivered));
        }
      }
    }
    for (const s of sides) await s.runtime.close();
  } finally {
    for (const s of sides) await s.store.close();
    if (pgAvailable) {
      await admin.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      await admin.end();
    }
    rmSync(dir, { recursive: true, force: true });
  }
  const base = sides[0];
  const rows = sides.map((s) => [
    s.name,
    fmt(percentile(s.latencies, 50) * 1000),
    fmt(percentile(s.latencies, 99) * 1000),
    fmt(percentile(s.latencies, 50) / percentile(base.latencies, 50)),
    fmt(percentile(s.latencies, 99) / percentile(base.latencies, 99)),
    fmt(percentile(s.persistLags, 50)),
    fmt(percentile(s.persistLags, 99)),
  ]);
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${describeMachine()}; ${ROUNDS} posts per store, interleaved round by round, 2 subscribers each.`,
    pgAvailable ? '' : '\nPostgreSQL was unreachable: only memory and SQLite were measured.',
    markdownTable(
      [
        'storage',
        'delivery p50 µs',
        'delivery p99 µs',
        'ratio p50 vs memory',
        'ratio p99 vs memory',
        'persist lag p50 ms',
        'persist lag p99 ms',
      ],
      rows,
    ),
    '',
    'Delivery latency is post → last subscriber called; persist lag is delivery → journal write acknowledged (whenPersisted).',
  ].join('\n');
  console.log(body);
  writeDocSection(join(__dirname, '../../docs/benchmarks.md'), '## Delivery latency with durable storage', body);
}

void main();
