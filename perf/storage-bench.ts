/**
 * Storage benchmark: messages/s each provider persists when one writer appends a conversation's
 * journal in batches of 1, 16 and 256 (what the persistence queue does, awaiting each batch).
 * Baselines measured in the same run: the same backend driven directly by its driver, the naive
 * way (one INSERT per message inside one transaction per batch), so the ratio shows what the
 * provider's checks and batching cost or gain. Each cell is bounded by time and message count.
 *
 * Run: npm run build && node dist/perf/storage-bench.js [--quick] [--no-write]
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import Database from 'better-sqlite3';
import { Client } from 'pg';
import type { ChatMessage } from '../actors/message-types';
import { MemoryStore } from '../storage-providers/memory-store';
import { PostgresStore } from '../storage-providers/postgres-store';
import { migrateSqlite } from '../storage-providers/sqlite-schema';
import { SqliteStore } from '../storage-providers/sqlite-store';
import type { ChatStore } from '../storage-providers/chat-store';

const BATCHES = [1, 16, 256] as const;
const ROUNDS = 3;
const PG_URL = process.env.NLWEB_CHAT_BENCH_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Appends batches until `ms` elapsed or `maxMessages` written; returns messages/s. */
type Writer = (batch: readonly ChatMessage[]) => Promise<void>;

const CONTENTS = Array.from(
  { length: 8 },
  (_, i) => `Message ${i}: ` + 'what are good vegetarian restaurants near the river, open late? '.repeat(3),
);
const TIMESTAMPS = Array.from({ length: 1024 }, (_, i) => new Date(Date.UTC(2026, 0, 1) + i).toISOString());

/** A realistic record (about 250 bytes of content, small metadata), built cheaply so the harness stays out of the numbers. */
function message(conversationId: string, seq: number): ChatMessage {
  const ai = seq % 3 === 0;
  return {
    message_id: `m-${seq}`,
    conversation_id: conversationId,
    sequence_id: seq,
    sender_id: ai ? 'agent-nlweb' : 'user-1',
    sender_type: ai ? 'ai' : 'human',
    message_type: 'text',
    content: CONTENTS[seq & 7],
    timestamp: TIMESTAMPS[seq & 1023],
    metadata: { client_id: `c-${seq}`, reply_to: seq - 1 },
  };
}

async function measure(conversationId: string, batch: number, ms: number, maxMessages: number, write: Writer): Promise<number> {
  let seq = 1;
  const started = performance.now();
  const deadline = started + ms;
  while (seq <= maxMessages && performance.now() < deadline) {
    const list: ChatMessage[] = [];
    for (let i = 0; i < batch; i++) list.push(message(conversationId, seq + i));
    await write(list);
    seq += batch;
  }
  return ((seq - 1) / (performance.now() - started)) * 1000;
}

interface Subject {
  readonly name: string;
  /** Name of the row this one is compared with (same backend, raw driver). */
  readonly baseline?: string;
  /** Returns a writer for a fresh conversation. */
  writer(conversationId: string): Promise<Writer>;
  close(): Promise<void>;
}

function storeSubject(name: string, store: ChatStore, baseline?: string): Subject {
  return {
    name,
    baseline,
    async writer(id) {
      if (!store.isOpen) await store.open();
      await store.createConversation({
        conversation_id: id,
        title: id,
        created_at: new Date().toISOString(),
        created_by: 'bench',
        settings: {},
        status: 'active',
      });
      return (batch) => store.appendMessages(id, batch);
    },
    close: () => store.close(),
  };
}

function rawSqlite(file: string): Subject {
  const db = new Database(file);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  migrateSqlite(db);
  const insert = db.prepare(
    `INSERT INTO messages (message_id, conversation_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata)
     VALUES (@message_id, @conversation_id, @sequence_id, @sender_id, @sender_type, @message_type, @content, @timestamp, @metadata)`,
  );
  const tx = db.transaction((batch: readonly ChatMessage[]) => {
    for (const m of batch) insert.run({ ...m, metadata: JSON.stringify(m.metadata) });
  });
  return { name: 'sqlite raw driver', writer: async () => async (batch) => tx(batch), close: async () => void db.close() };
}

async function rawPostgres(schema: string): Promise<Subject> {
  const client = new Client({ connectionString: PG_URL });
  await client.connect();
  await client.query(`CREATE TABLE "${schema}".raw_messages (LIKE "${schema}".messages INCLUDING ALL)`);
  const text = `INSERT INTO "${schema}".raw_messages (message_id, conversation_id, sequence_id, sender_id, sender_type, message_type, content, timestamp, metadata)
    VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9::jsonb)`;
  return {
    name: 'postgres raw driver',
    writer: async () => async (batch) => {
      await client.query('BEGIN');
      for (const m of batch) {
        const values = [m.message_id, m.conversation_id, m.sequence_id, m.sender_id, m.sender_type, m.message_type, m.content, m.timestamp];
        await client.query({ name: 'raw-insert', text, values: [...values, JSON.stringify(m.metadata)] });
      }
      await client.query('COMMIT');
    },
    close: () => client.end(),
  };
}

async function pgReachable(): Promise<boolean> {
  const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 2000 });
  try {
    await client.connect();
    await client.end();
    return true;
  } catch {
    return false;
  }
}

async function main(): Promise<void> {
  const quick = process.argv.includes('--quick');
  const loadBefore = os.loadavg()[0];
  const cellMs = quick ? 250 : 900;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-storage-bench-'));
  const schema = `nlweb_chat_bench_${process.pid}`;
  const subjects: Subject[] = [storeSubject('memory', new MemoryStore())];
  subjects.push(rawSqlite(path.join(dir, 'raw.db')));
  subjects.push(storeSubject('sqlite (file, WAL)', new SqliteStore({ path: path.join(dir, 'store.db') }), 'sqlite raw driver'));
  const pg = await pgReachable();
  let pgStore: PostgresStore | undefined;
  if (pg) {
    pgStore = new PostgresStore({ url: PG_URL, poolSize: 4, schema });
    await pgStore.open();
    subjects.push(await rawPostgres(schema));
    subjects.push(storeSubject('postgres', pgStore, 'postgres raw driver'));
  } else {
    console.warn(`PostgreSQL at ${PG_URL} unreachable: postgres rows skipped`);
  }

  // Rounds interleave the subjects so a burst of load on a shared machine hits them all alike;
  // each cell reports the median of its rounds.
  const samples = new Map<string, number[]>();
  try {
    for (const subject of subjects) {
      // Warm-up: prepared statements, JIT, pool connections.
      await measure('warmup', 16, 50, 512, await subject.writer('warmup'));
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const batch of BATCHES) {
        for (const subject of subjects) {
          const id = `bench-${batch}-${round}`;
          const max = subject.name === 'memory' ? 1_000_000 : 200_000;
          const rate = await measure(id, batch, cellMs / ROUNDS, max, await subject.writer(id));
          const key = `${subject.name}|${batch}`;
          samples.set(key, [...(samples.get(key) ?? []), rate]);
        }
      }
    }
  } finally {
    for (const s of subjects) await s.close().catch(() => undefined);
    if (pg) {
      const c = new Client({ connectionString: PG_URL });
      await c.connect();
      await c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
      await c.end();
    }
    fs.rmSync(dir, { recursive: true, force: true });
  }

  const rates = new Map([...samples].map(([key, list]) => [key, median(list)]));
  const rows = subjects.map((s) => [
    s.name,
    ...BATCHES.map((b) => fmt(rates.get(`${s.name}|${b}`)!, 0)),
    s.baseline ? BATCHES.map((b) => fmt(rates.get(`${s.name}|${b}`)! / rates.get(`${s.baseline}|${b}`)!, 2)).join(' / ') : '-',
  ]);
  const table = markdownTable(['provider', 'msg/s batch 1', 'msg/s batch 16', 'msg/s batch 256', 'vs raw driver (1 / 16 / 256)'], rows);
  console.log(table);
  if (process.argv.includes('--no-write')) return;
  const body = [
    `Measured ${new Date().toISOString().slice(0, 10)} on ${describeMachine()} (nproc ${os.cpus().length}), PostgreSQL on loopback;`,
    `1-minute load average ${loadBefore.toFixed(1)} at the start (a shared machine: expect run-to-run noise, ratios are steadier than rates).`,
    `One writer appends one conversation's journal, awaiting each batch (as the persistence queue does); median of ${ROUNDS} interleaved rounds of ${Math.round(cellMs / ROUNDS)} ms per cell.`,
    'Raw driver rows: the same table, one INSERT per message in one transaction per batch (no checks).',
    '',
    table,
    '',
    '`node dist/perf/storage-bench.js` reproduces it (`--quick` for a shorter run).',
  ].join('\n');
  writeStorageSection(path.resolve(__dirname, '../../docs/benchmarks.md'), body);
}

// Small report helpers, kept here so this benchmark builds on its own.

function median(values: readonly number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? NaN;
}

function fmt(n: number, digits: number): string {
  return Number.isFinite(n) ? n.toFixed(digits) : 'n/a';
}

function markdownTable(header: readonly string[], rows: readonly (readonly string[])[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: readonly string[]) => `| ${cells.map((c, i) => c.padEnd(widths[i])).join(' | ')} |`;
  return [line(header), `|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`, ...rows.map(line)].join('\n');
}

function describeMachine(): string {
  const cpus = os.cpus();
  return `${cpus.length} x ${cpus[0]?.model.trim() ?? 'unknown CPU'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB RAM, ${os.type()} ${os.release()}, Node ${process.version}`;
}

/** Replaces (or appends) the `## Storage` section of docs/benchmarks.md, re-read right before writing. */
function writeStorageSection(file: string, body: string): void {
  const heading = '## Storage';
  const lines = (fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : '# Benchmarks\n').trimEnd().split('\n');
  const start = lines.findIndex((l) => l.trim() === heading);
  const section = [heading, '', body.trim(), ''];
  if (start < 0) {
    lines.push('', ...section);
  } else {
    let end = lines.findIndex((l, i) => i > start && /^#{1,2}\s/.test(l));
    if (end < 0) end = lines.length;
    lines.splice(start, end - start, ...section);
  }
  fs.writeFileSync(file, `${lines.join('\n').trimEnd()}\n`);
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
