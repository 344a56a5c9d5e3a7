import { execFile, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChatRuntime, createCounterIds, createEchoAgent, createManualClock } from '../../actors';
import type { ChatMessage, ConversationOutput } from '../../actors';
import { SqliteStore, type ChatStore } from '../../storage-providers';
import { main } from '../../bin/replay/cli-program';
import { makeHeader, toJsonLine } from '../../bin/replay/jsonl';
import type { TextSink } from '../../bin/replay/line-writer';

export const ROOT = path.resolve(__dirname, '../..');
export const CLI = path.join(ROOT, 'dist/bin/replay.js');

export function makeTmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-replay-'));
}

/** Runs the built CLI as a real child process. */
export function runCli(args: readonly string[], options: { cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args], { cwd: options.cwd ?? ROOT, maxBuffer: 64 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** Runs the CLI in-process (main), collecting what it writes. */
export async function runMain(...args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const io = { stdout: memorySink(), stderr: memorySink() };
  const code = await main(['node', 'replay', ...args], io);
  return { code, stdout: io.stdout.text(), stderr: io.stderr.text() };
}

/** Collects what a test writes to a sink. */
export function memorySink(isTTY = false): TextSink & { isTTY: boolean; text(): string } {
  const chunks: string[] = [];
  return { isTTY, write: (c: string) => (chunks.push(c), true), text: () => chunks.join('') };
}

/** Builders for hand-made journals (each record complete, as a store would return it). */
export function journalBuilder(conversationId = 'conv-1', start = Date.UTC(2026, 0, 1, 9, 30, 0)) {
  let seq = 0;
  const at = (n: number) => new Date(start + n * 1000).toISOString();
  const rec = (
    fields: Partial<ChatMessage> & Pick<ChatMessage, 'sender_id' | 'sender_type' | 'message_type' | 'message_id'>,
  ): ChatMessage => {
    seq = fields.sequence_id ?? seq + 1;
    return {
      conversation_id: conversationId,
      sequence_id: seq,
      content: '',
      timestamp: at(seq),
      metadata: {},
      ...fields,
    };
  };
  return {
    join: (id: string, type: 'human' | 'ai' = 'human', extra: Partial<ChatMessage> = {}) =>
      rec({
        message_id: `join-${seq + 1}`,
        sender_id: id,
        sender_type: 'system',
        message_type: 'join',
        content: `${id} joined`,
        metadata: {
          participant: {
            participant_id: id,
            participant_type: type,
            display_name: id,
            role: 'member',
            ...(type === 'ai' ? { agent_id: id } : {}),
          },
        },
        ...extra,
      }),
    leave: (id: string, type: 'human' | 'ai' = 'human', extra: Partial<ChatMessage> = {}) =>
      rec({
        message_id: `leave-${seq + 1}`,
        sender_id: id,
        sender_type: 'system',
        message_type: 'leave',
        content: `${id} left`,
        metadata: { participant: { participant_id: id, participant_type: type, display_name: id, role: 'member' } },
        ...extra,
      }),
    mode: (mode: 'single' | 'multi', extra: Partial<ChatMessage> = {}) =>
      rec({
        message_id: `mode-${seq + 1}`,
        sender_id: 'system',
        sender_type: 'system',
        message_type: 'mode_change',
        content: `conversation is now in ${mode} mode`,
        metadata: { mode, previous_mode: mode === 'multi' ? 'single' : 'multi' },
        ...extra,
      }),
    post: (sender: string, messageId: string, content: string, extra: Partial<ChatMessage> = {}) =>
      rec({ message_id: messageId, sender_id: sender, sender_type: 'human', message_type: 'text', content, ...extra }),
    answer: (agent: string, replyTo: ChatMessage, content: string, extra: Partial<ChatMessage> = {}) => {
      const jobId = `${conversationId}:${replyTo.sequence_id}:${agent}`;
      return rec({
        message_id: `${jobId}:1`,
        sender_id: agent,
        sender_type: 'ai',
        message_type: 'text',
        content,
        metadata: {
          job_id: jobId,
          in_reply_to: replyTo.message_id,
          in_reply_to_sequence: replyTo.sequence_id,
          chain_depth: 1,
          part: 1,
          complete: true,
        },
        ...extra,
      });
    },
    /** A placeholder a cold start wrote for an id reserved before a crash (conversation-reducers.ts, recoverLost). */
    lost: (extra: Partial<ChatMessage> = {}) =>
      rec({
        message_id: `lost-${seq + 1}`,
        sender_id: 'system',
        sender_type: 'system',
        message_type: 'lost',
        content: `sequence id ${seq + 1} was handed out before a crash and not stored`,
        metadata: { reason: 'crash' },
        ...extra,
      }),
    jobStarted: (agent: string, replyTo: ChatMessage, extra: Partial<ChatMessage> = {}) =>
      rec({
        message_id: `agent_job_started-${seq + 1}`,
        sender_id: 'system',
        sender_type: 'system',
        message_type: 'agent_job_started',
        content: `${agent} is answering`,
        metadata: {
          job_id: `${conversationId}:${replyTo.sequence_id}:${agent}`,
          participant_id: agent,
          in_reply_to_sequence: replyTo.sequence_id,
        },
        ...extra,
      }),
  };
}

/** Writes a JSONL journal (with a header unless `header` is false) and returns its path. */
export function writeJournal(dir: string, name: string, records: readonly ChatMessage[], header: boolean | string = true): string {
  const file = path.join(dir, name);
  const id = typeof header === 'string' ? header : (records[0]?.conversation_id ?? 'conv-1');
  const lines = records.map((r) => toJsonLine(r));
  if (header !== false) lines.unshift(toJsonLine(makeHeader(id, new Date(Date.UTC(2026, 0, 2)))));
  fs.writeFileSync(file, `${lines.join('\n')}\n`);
  return file;
}

export function parseJsonLines(text: string): Record<string, unknown>[] {
  return text
    .split('\n')
    .filter((l) => l.trim().length > 0)
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

/** Resolves after pending promise chains (agent jobs, journal writes) have run. */
export async function settle(rounds = 30): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

/** Opens the SQLite file `db` (made if missing), runs `fill` on it and closes it: a journal the CLI reads as `sqlite:<db>`. */
export async function fillSqliteFile<T>(db: string, fill: (store: SqliteStore) => Promise<T>): Promise<T> {
  const store = new SqliteStore({ path: db });
  await store.open();
  try {
    return await fill(store);
  } finally {
    await store.close();
  }
}

/**
 * A conversation recorded by the runtime (recordConversation) in a SQLite file of a fresh directory, for one describe's
 * tests: recorded in beforeAll (`damage`, if given, then alters the file, as a damaged production database would be),
 * the directory removed in afterAll.
 */
export function recordedSqliteJournal(damage?: (db: string, conversationId: string) => void): {
  readonly dir: string;
  readonly db: string;
  /** `sqlite:<db>`, for --storage. */
  readonly spec: string;
  readonly id: string;
  readonly recorded: Awaited<ReturnType<typeof recordConversation>>;
} {
  let dir = '';
  let recorded: Awaited<ReturnType<typeof recordConversation>> | undefined;
  beforeAll(async () => {
    dir = makeTmpDir();
    const db = path.join(dir, 'chat.db');
    recorded = await fillSqliteFile(db, (store) => recordConversation(store));
    damage?.(db, recorded.conversationId);
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));
  return {
    get dir() {
      return dir;
    },
    get db() {
      return path.join(dir, 'chat.db');
    },
    get spec() {
      return `sqlite:${path.join(dir, 'chat.db')}`;
    },
    get id() {
      return recorded!.conversationId;
    },
    get recorded() {
      return recorded!;
    },
  };
}

/**
 * Records a real conversation through createChatRuntime on a SQLite file with the echo agent:
 * alice creates it (echo auto-joins), posts; bob joins (multi mode) and posts; alice leaves; bob
 * posts; alice rejoins as owner (an embedder's join) and posts; she redacts one of bob's messages; alice edits her last. Returns what each human's
 * connections received, in order (the --as view must match it). The caller opens and closes `store`.
 */
export async function recordConversation(store: ChatStore, conversationId = 'c-recorded') {
  const clock = createManualClock(Date.UTC(2026, 2, 3, 10, 0, 0));
  const runtime = await createChatRuntime({
    config: { observability: { log_level: 'silent' }, chat: { nlweb: { endpoints: [{ id: 'echo', url: 'standin' }] } } },
    storage: store,
    agents: [createEchoAgent()],
    clock,
    ids: createCounterIds('r'),
  });
  const windowMs = 2000;
  const seen: Record<'alice' | 'bob', ChatMessage[]> = { alice: [], bob: [] };
  const listen = (who: 'alice' | 'bob') => (o: ConversationOutput) => {
    if (o.type === 'message') seen[who].push(o.message);
  };
  const step = async () => {
    clock.advance(windowMs + 1);
    await settle();
    clock.advance(10);
    await settle();
  };
  try {
    await runtime.createConversation({ conversation_id: conversationId, created_by: 'alice', title: 'replay fixture' });
    await runtime.subscribe(conversationId, 'alice', listen('alice'), { afterSequenceId: 0 });
    await runtime.post(conversationId, { sender_id: 'alice', message_id: 'a1', content: 'hello from alice' });
    await step();
    const bob = await runtime.join(conversationId, { participant_id: 'bob', participant_type: 'human', display_name: 'Bob' });
    await runtime.subscribe(conversationId, 'bob', listen('bob'), { afterSequenceId: bob.joined_at_sequence - 1 });
    await runtime.post(conversationId, { sender_id: 'bob', message_id: 'b1', content: 'bob here\nsecond line' });
    await runtime.post(conversationId, { sender_id: 'alice', message_id: 'a2', content: 'welcome bob' });
    await step();
    await runtime.leave(conversationId, 'alice');
    await settle();
    await runtime.post(conversationId, { sender_id: 'bob', message_id: 'b2', content: 'alice is gone, secret: 1234' });
    await step();
    // Her leave left the conversation without an owner (docs/security.md); the embedder makes her owner again on her
    // return, so the redaction below is the owner's.
    const back = await runtime.join(conversationId, { participant_id: 'alice', participant_type: 'human', role: 'owner' });
    await runtime.subscribe(conversationId, 'alice', listen('alice'), { afterSequenceId: back.joined_at_sequence - 1 });
    await runtime.post(conversationId, { sender_id: 'alice', message_id: 'a3', content: 'I am back' });
    await step();
    await runtime.redact(conversationId, { messageIds: ['b2'] }, 'alice');
    await step();
    await runtime.edit(conversationId, 'alice', 'a3', 'I am back, edited');
    await step();
  } finally {
    await runtime.close();
  }
  return { conversationId, seen };
}

/**
 * Streams a large journal the machine reproduces (alice asks, echo answers: 3 records a round) to
 * `file`, without holding it in memory. `contentRepeat` sizes each message (~44 bytes a repeat).
 */
export async function writeBigJournal(file: string, records: number, contentRepeat: number): Promise<void> {
  const out = fs.createWriteStream(file);
  const j = journalBuilder('big');
  const text = 'the quick brown fox jumps over the lazy dog '.repeat(contentRepeat);
  let batch: string[] = [
    toJsonLine(makeHeader('big', new Date(Date.UTC(2026, 0, 2)))),
    toJsonLine(j.join('alice')),
    toJsonLine(j.join('echo', 'ai')),
  ];
  let written = 2;
  const flush = async () => {
    if (!out.write(`${batch.join('\n')}\n`)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
    batch = [];
  };
  while (written < records) {
    const q = j.post('alice', `m${written}`, `${written} ${text}`);
    batch.push(toJsonLine(q), toJsonLine(j.jobStarted('echo', q)), toJsonLine(j.answer('echo', q, `echo: ${q.content}`)));
    written += 3;
    if (batch.length >= 3000) await flush();
  }
  await flush();
  out.end();
  await new Promise<void>((resolve) => out.once('close', () => resolve()));
}

/** Runs the built CLI with extra node flags, stdout going straight to a file (never buffered here). */
export function runCliToFile(
  nodeFlags: readonly string[],
  args: readonly string[],
  outFile: string,
): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(outFile, 'w');
    const child = spawn(process.execPath, [...nodeFlags, CLI, ...args], { cwd: ROOT, stdio: ['ignore', fd, 'pipe'] });
    let stderr = '';
    child.stderr!.setEncoding('utf8').on('data', (s: string) => (stderr += s));
    child.on('error', reject);
    child.on('close', (code) => {
      fs.closeSync(fd);
      resolve({ code, stderr });
    });
  });
}
