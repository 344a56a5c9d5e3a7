import fs from 'node:fs';
import path from 'node:path';
import WebSocket from 'ws';
import type { ChatMessage } from '../../actors';
import { createChatClient, type ChatClient, type WebSocketConstructor } from '../../client';
import type { ChatStore } from '../../storage-providers';
import { PostgresStore, SqliteStore } from '../../storage-providers';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema, withClient } from '../storage/pg-helpers';
import { expectContiguous, makeTmpDir, readAll, within } from './recovery-helpers';
import { startServerProcess, writeServerConfig, type ServerProcess } from './server-process';

/**
 * SIGKILL the real server process while three humans post through the reference client, restart it
 * on the same storage, and check what survived against what the server had acknowledged.
 */

const HUMANS = ['alice', 'bob', 'carol'] as const;
/** Members after the restart: the posting humans plus erin (dave joined and left before the crash). */
const MEMBERS = ['alice', 'bob', 'carol', 'erin'];
/** Persisted acknowledgements (all humans) to collect before the kill. */
const KILL_AFTER_PERSISTED_ACKS = 150;
/** Messages each human sends after the restart before the posting stops. */
const AFTER_RESTART = 10;
const VERBOSE = process.env.RECOVERY_VERBOSE === '1';

type Frame = { type: string } & Record<string, unknown>;

interface Human {
  readonly user: string;
  readonly client: ChatClient;
  /** Records delivered to the application, in order. */
  readonly delivered: ChatMessage[];
  /** message_id → sequence_id of every message_ack that said persisted: true. */
  readonly persistedAcks: Map<string, number>;
  /** message_ack frames with duplicate: true (re-sends the server recognised). */
  readonly duplicateAcks: Map<string, number>;
  /** Highest `persisted` watermark received. */
  watermark: number;
  /** Connections that reached `connected`. */
  connects: number;
  sent: number;
  sentAfterRestart: number;
  /** Highest sequence id delivered by the first server process. */
  seenBeforeKill?: number;
}

/** A `ws` WebSocket that also shows every server frame to the test (registered before the client's handler). */
function tappedWebSocket(onFrame: (frame: Frame) => void): WebSocketConstructor {
  class Tapped extends WebSocket {
    constructor(url: string) {
      super(url);
      this.on('message', (data: WebSocket.RawData) => {
        try {
          onFrame(JSON.parse(String(data)) as Frame);
        } catch {
          // not JSON: the client reports it
        }
      });
    }
  }
  return Tapped as unknown as WebSocketConstructor;
}

/** Waits for a condition re-evaluated after every frame any client receives (bounded). */
function createFrameWaiter() {
  const waiters = new Set<() => void>();
  return {
    onFrame(): void {
      // After the client's own handler has run on this frame.
      setImmediate(() => {
        for (const check of [...waiters]) check();
      });
    },
    until(condition: () => boolean, ms: number, what: string): Promise<void> {
      if (condition()) return Promise.resolve();
      let check!: () => void;
      const met = new Promise<void>((resolve) => {
        check = () => {
          if (!condition()) return;
          waiters.delete(check);
          resolve();
        };
        waiters.add(check);
      });
      return within(met, ms, what).finally(() => waiters.delete(check));
    },
  };
}

interface BackendCase {
  readonly name: string;
  storageConfig(): Record<string, unknown>;
  /** Opens the journal directly (for reading while no server runs). */
  openStore(): Promise<ChatStore>;
  /** Called after the kill, before reading: make sure nothing of the killed process is still writing. */
  afterKill(): Promise<void>;
  dispose(): Promise<void>;
}

function sqliteCase(): BackendCase {
  const dir = makeTmpDir();
  const file = path.join(dir, 'chat.db');
  return {
    name: 'sqlite',
    storageConfig: () => ({ backend: 'sqlite', sqlite: { path: file } }),
    async openStore() {
      const store = new SqliteStore({ path: file });
      await store.open();
      return store;
    },
    async afterKill() {
      // The process is gone: SQLite has no server side that could still commit.
    },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function postgresCase(): BackendCase {
  const schema = uniqueSchema();
  return {
    name: 'postgres',
    storageConfig: () => ({ backend: 'postgres', postgres: { url: PG_URL, schema, pool_size: 4 } }),
    async openStore() {
      const store = new PostgresStore({ url: PG_URL, schema, poolSize: 2, applicationName: 'nlweb-chat-recovery-reader' });
      await store.open();
      return store;
    },
    async afterKill() {
      // A statement the killed process had sent may still be running on its backend: end those
      // backends (waiting up to 5 s for each) so the journal read below is final.
      await withClient((c) =>
        c.query(
          `SELECT pg_terminate_backend(pid, 5000) FROM pg_stat_activity
           WHERE pid <> pg_backend_pid() AND application_name = 'nlweb-chat' AND query LIKE '%' || $1 || '%'`,
          [schema],
        ),
      );
    },
    async dispose() {
      await dropSchema(schema);
    },
  };
}

function runCrashScenario(makeCase: () => BackendCase): void {
  let backend: BackendCase;
  let dir: string;
  const servers: ServerProcess[] = [];
  const clients: ChatClient[] = [];

  beforeEach(() => {
    backend = makeCase();
    dir = makeTmpDir();
  });

  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    for (const s of servers.splice(0)) await s.kill();
    await backend.dispose();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('SIGKILL mid-stream: acknowledged messages survive, ids continue, clients resume, re-sends are deduplicated', async () => {
    const configFile = path.join(dir, 'config.yaml');
    writeServerConfig(configFile, backend.storageConfig());
    const first = await startServerProcess(configFile);
    servers.push(first);

    const created = await fetch(`${first.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        conversation_id: 'crash',
        title: 'crash test',
        participants: [{ participant_id: 'bob' }, { participant_id: 'carol' }],
        auto_join_agents: false,
      }),
    });
    expect(created.status).toBe(201);
    // Membership changes before the crash: dave joins and leaves, erin joins (and stays, silent).
    for (const [user, action] of [
      ['dave', 'join'],
      ['dave', 'leave'],
      ['erin', 'join'],
    ] as const) {
      const res = await fetch(`${first.url}/chat/conversations/crash/${action}?user_id=${user}`, { method: 'POST' });
      expect(res.status).toBe(200);
    }

    const waiter = createFrameWaiter();
    let restarted = false;
    let cursorResets = 0;
    const humans: Human[] = HUMANS.map((user) => {
      let n = 0;
      const human: Human = {
        user,
        delivered: [],
        persistedAcks: new Map(),
        duplicateAcks: new Map(),
        watermark: 0,
        connects: 0,
        sent: 0,
        sentAfterRestart: 0,
        client: undefined as unknown as ChatClient,
      };
      const onFrame = (frame: Frame): void => {
        if (frame.type === 'message_ack') {
          const id = frame.message_id as string;
          if (frame.persisted === true) human.persistedAcks.set(id, frame.sequence_id as number);
          if (frame.duplicate === true) human.duplicateAcks.set(id, frame.sequence_id as number);
        } else if (frame.type === 'persisted') {
          human.watermark = Math.max(human.watermark, frame.up_to_sequence_id as number);
        }
        waiter.onFrame();
      };
      const client = createChatClient({
        url: first.url,
        conversationId: 'crash',
        userId: user,
        WebSocketImpl: tappedWebSocket(onFrame),
        maxRetries: 1000,
        backoff: { initialMs: 20, maxMs: 250 },
        pingIntervalMs: 0,
        connectTimeoutMs: 20_000,
        lastSequenceId: 0,
        generateId: () => `${user}-${++n}`,
      });
      (human as { client: ChatClient }).client = client;
      clients.push(client);
      client.on('message', (m) => void human.delivered.push(m));
      client.on('connected', () => void (human.connects += 1));
      client.on('error', (err) => {
        if (err.code === 'CLIENT_CURSOR_RESET') cursorResets += 1;
      });
      client.on('disconnected', () => {
        if (human.seenBeforeKill === undefined) human.seenBeforeKill = client.lastSequenceId ?? 0;
      });
      return human;
    });
    await within(Promise.all(humans.map((h) => h.client.connect())), 30_000, 'clients to connect');

    // Each human posts continuously: the next message as soon as the previous one has a sequence id.
    let stopPosting = false;
    const sendErrors: unknown[] = [];
    const loops = humans.map(async (h) => {
      while (!stopPosting) {
        h.sent += 1;
        if (restarted) h.sentAfterRestart += 1;
        try {
          await h.client.send(`${h.user} message ${h.sent}`);
        } catch (err) {
          sendErrors.push(err);
          return;
        }
      }
    });

    const persistedAckCount = () => humans.reduce((n, h) => n + h.persistedAcks.size, 0);
    await waiter.until(
      () => persistedAckCount() >= KILL_AFTER_PERSISTED_ACKS && humans.every((h) => h.persistedAcks.size > 0),
      60_000,
      `${KILL_AFTER_PERSISTED_ACKS} persisted acks`,
    );
    const killed = await first.kill();
    expect(killed.signal).toBe('SIGKILL');

    // What the server had promised before it died.
    const ackedBeforeKill = humans.map((h) => new Map(h.persistedAcks));
    const watermarkBeforeKill = Math.max(...humans.map((h) => h.watermark));
    const pendingAtKill = humans.reduce((n, h) => n + h.client.pendingCount, 0);

    // The journal as the crash left it.
    await backend.afterKill();
    const direct = await backend.openStore();
    const atCrash = await readAll(direct, 'crash');
    await direct.close();
    expectContiguous(atCrash);
    const headAtCrash = atCrash.length;
    const bySeq = new Map(atCrash.map((m) => [m.sequence_id, m]));
    let ackedCount = 0;
    humans.forEach((h, i) => {
      for (const [messageId, seq] of ackedBeforeKill[i]) {
        ackedCount++;
        expect(bySeq.get(seq)).toMatchObject({ message_id: messageId, sender_id: h.user });
      }
    });
    expect(watermarkBeforeKill).toBeLessThanOrEqual(headAtCrash);
    // Records each client saw up to the watermark are exactly the stored ones.
    for (const h of humans) {
      for (const m of h.delivered.filter((d) => d.sequence_id <= watermarkBeforeKill)) {
        expect(bySeq.get(m.sequence_id)).toMatchObject({ message_id: m.message_id, sender_id: m.sender_id, content: m.content });
      }
    }
    // Messages that were stored although their sender had no persisted ack yet: their re-send must be deduplicated.
    const storedButUnconfirmed = humans.map((h, i) =>
      atCrash.filter((m) => m.sender_id === h.user && m.message_type === 'text' && !ackedBeforeKill[i].has(m.message_id)),
    );

    // Restart on the same storage and port: the clients reconnect by themselves.
    restarted = true;
    const second = await startServerProcess(configFile, { port: first.port });
    servers.push(second);
    await waiter.until(
      () => humans.every((h) => h.connects >= 2 && h.sentAfterRestart >= AFTER_RESTART),
      60_000,
      'posting after the restart',
    );
    stopPosting = true;
    await within(Promise.all(loops), 30_000, 'posting loops to end');
    expect(sendErrors).toEqual([]);
    await waiter.until(() => humans.every((h) => h.client.pendingCount === 0), 30_000, 'every outbox to drain (all persisted)');

    const summary = await (await fetch(`${second.url}/chat/conversations/crash?user_id=alice`)).json();
    expect(summary.participants.map((p: { participant_id: string }) => p.participant_id).sort()).toEqual(MEMBERS);
    const head = summary.last_sequence_id as number;
    await waiter.until(() => humans.every((h) => (h.client.lastSequenceId ?? 0) >= head), 30_000, 'every client to reach the head');

    // A re-send of a stored message (same message_id) gets its original sequence id back, not a new one.
    const probe = atCrash.find((m) => m.sender_id === 'alice' && m.message_type === 'text')!;
    const dup = await resendRaw(second.port, 'alice', probe);
    expect(dup).toMatchObject({ type: 'message_ack', message_id: probe.message_id, sequence_id: probe.sequence_id, duplicate: true });

    for (const c of clients) c.close();
    const stopped = await second.stop();
    expect(stopped.code).toBe(0);
    const reader = await backend.openStore();
    const journal = await readAll(reader, 'crash');
    expect((await reader.getParticipants('crash')).map((p) => p.participant_id).sort()).toEqual(MEMBERS);
    await reader.close();

    // The journal: contiguous, every stored record of the crash kept as it was, one record per message.
    expectContiguous(journal);
    expect(journal.length).toBe(head);
    expect(journal.slice(0, headAtCrash)).toEqual(atCrash);
    const keys = journal.map((m) => `${m.sender_id}\u0000${m.message_id}`);
    expect(new Set(keys).size).toBe(keys.length);
    // Every message every human sent is stored exactly once (re-sent ones deduplicated).
    for (const h of humans) {
      const stored = journal.filter((m) => m.sender_id === h.user && m.message_type === 'text').map((m) => m.message_id);
      expect(stored.sort()).toEqual(Array.from({ length: h.sent }, (_, i) => `${h.user}-${i + 1}`).sort());
    }
    humans.forEach((h, i) => {
      for (const m of storedButUnconfirmed[i]) {
        const again = h.duplicateAcks.get(m.message_id);
        if (again !== undefined) expect(again).toBe(m.sequence_id);
        expect(journal.filter((j) => j.sender_id === h.user && j.message_id === m.message_id).map((j) => j.sequence_id)).toEqual([
          m.sequence_id,
        ]);
      }
    });
    // The restarted server continued after the stored head: its first record is headAtCrash + 1.
    expect(journal[headAtCrash]?.sequence_id).toBe(headAtCrash + 1);

    // Each client resumed from its last sequence id: every id up to the head, in order, no duplicate, the
    // journal's records - except ids the first process delivered but never stored. Those ids are given to
    // new records by the restarted process (delivery precedes persistence); a client that saw them either
    // resets its cursor (the server's head is below its own: CLIENT_CURSOR_RESET, then the new records
    // arrive under the same ids) or, when the head has already moved past its cursor, misses them.
    let idsReused = 0;
    let recordsMissed = 0;
    for (const h of humans) {
      const seenBefore = h.seenBeforeKill ?? 0;
      const inLostWindow = (seq: number) => seq > headAtCrash && seq <= seenBefore;
      idsReused = Math.max(idsReused, seenBefore - headAtCrash);
      const latest = new Map<number, ChatMessage>();
      const times = new Map<number, number>();
      let previous = 0;
      for (const m of h.delivered) {
        // Only a cursor reset goes back, and only into the lost window.
        if (m.sequence_id !== previous + 1)
          expect({ seq: m.sequence_id, lostWindowRedelivery: inLostWindow(m.sequence_id) }).toEqual({
            seq: m.sequence_id,
            lostWindowRedelivery: true,
          });
        previous = m.sequence_id;
        latest.set(m.sequence_id, m);
        times.set(m.sequence_id, (times.get(m.sequence_id) ?? 0) + 1);
      }
      expect([...latest.keys()].sort((a, b) => a - b)).toEqual(Array.from({ length: head }, (_, i) => i + 1));
      for (const [seq, m] of latest) {
        if (inLostWindow(seq) && times.get(seq) === 1) {
          recordsMissed += 1;
          continue;
        }
        const stored = journal[seq - 1];
        expect({ seq, id: m.message_id, sender: m.sender_id, content: m.content }).toEqual({
          seq: stored.sequence_id,
          id: stored.message_id,
          sender: stored.sender_id,
          content: stored.content,
        });
      }
    }

    const figures = {
      backend: backend.name,
      persisted_acks_before_kill: ackedCount,
      journal_head_at_crash: headAtCrash,
      unpersisted_in_outboxes_at_kill: pendingAtKill,
      stored_but_unconfirmed: storedButUnconfirmed.reduce((n, l) => n + l.length, 0),
      duplicate_acks_after_restart: humans.reduce((n, h) => n + h.duplicateAcks.size, 0),
      delivered_unstored_ids_reused: idsReused,
      client_records_missed_at_reused_ids: recordsMissed,
      cursor_resets: cursorResets,
      final_head: head,
    };
    if (VERBOSE) console.log(JSON.stringify(figures));
    expect(ackedCount).toBeGreaterThanOrEqual(KILL_AFTER_PERSISTED_ACKS);
  }, 240_000);
}

/** Sends one message frame as `user` on a fresh raw connection and returns the server's first answer to it. */
async function resendRaw(port: number, user: string, original: ChatMessage): Promise<Frame> {
  const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/ws/crash?user_id=${user}`);
  try {
    const answer = new Promise<Frame>((resolve, reject) => {
      ws.on('error', reject);
      ws.on('message', (data) => {
        const frame = JSON.parse(String(data)) as Frame;
        if (frame.type === 'connected')
          ws.send(JSON.stringify({ type: 'message', message_id: original.message_id, content: original.content }));
        if ((frame.type === 'message_ack' || frame.type === 'error') && frame.message_id === original.message_id) resolve(frame);
      });
    });
    return await within(answer, 20_000, 'the answer to a re-sent message');
  } finally {
    ws.close();
  }
}

describe('crash recovery with a real server process: sqlite', () => runCrashScenario(sqliteCase));
describeWithPg(pgReachableSync())('crash recovery with a real server process: postgres', () => runCrashScenario(postgresCase));
