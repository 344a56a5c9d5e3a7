import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import WebSocket from 'ws';
import type { ChatStore } from '../../storage-providers/chat-store';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { connectClient, type TestClient } from '../gateway/ws-test-client';
import { PG_URL, describeWithPg, dropSchema, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';
import { startServerProcess, type ServerProcess } from './server-process';

// Real child processes start in ~1 s but much slower on a loaded CI machine.
jest.setTimeout(90_000);

/**
 * A real server process under load receives SIGTERM: it must close sockets with 1001, flush the journal,
 * exit 0, and every message it acknowledged (persisted: true, and, since it exited 0, every ack) must be
 * in durable storage, where a restarted server serves it to a resuming client without gaps.
 */

interface Ack {
  readonly seq: number;
  persisted: boolean;
}

/** Keeps `window` messages in flight from one socket: every first ack (or refusal) sends the next. */
function startLoad(client: TestClient, sender: string, window: number): { acks: Map<string, Ack>; sent: () => number } {
  const acks = new Map<string, Ack>();
  let next = 0;
  const sendOne = (): void => {
    if (client.ws.readyState !== WebSocket.OPEN) return;
    const id = `${sender}-${next++}`;
    client.send({ type: 'message', message_id: id, content: `load ${id}` });
  };
  client.ws.on('message', (data) => {
    const frame = JSON.parse(data.toString()) as Record<string, unknown>;
    if (frame.type === 'message_ack') {
      const id = frame.message_id as string;
      const prior = acks.get(id);
      const seq = frame.sequence_id as number;
      acks.set(id, { seq, persisted: (prior?.persisted ?? false) || frame.persisted === true });
      if (!prior) sendOne();
    } else if (frame.type === 'error' && typeof frame.message_id === 'string') {
      sendOne(); // refused (queue full / shutting down): keep the pressure on
    }
  });
  for (let i = 0; i < window; i++) sendOne();
  return { acks, sent: () => next };
}

function writeConfig(dir: string, storage: Record<string, unknown>): string {
  const file = path.join(dir, 'config.yaml');
  writeFileSync(
    file,
    JSON.stringify({
      server: { auth: { mode: 'dev' } },
      chat: {
        storage,
        limits: { rate_limit_per_second: 100000, rate_limit_burst: 100000, queue_size: 100000 },
        nlweb: { endpoints: [], standin: { enabled: false } },
      },
      observability: { log_level: 'info', shutdown_deadline_s: 10 },
    }),
  );
  return file;
}

async function createConversation(server: ServerProcess, owner: string, other: string): Promise<string> {
  const res = await fetch(`${server.url}/chat/conversations?user_id=${owner}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ title: 'load', participants: [{ participant_id: other, participant_type: 'human' }], auto_join_agents: false }),
  });
  expect(res.status).toBe(201);
  return ((await res.json()) as { conversation_id: string }).conversation_id;
}

const pgReachable = pgReachableSync();

const backends: Array<{
  name: string;
  describeFn: jest.Describe;
  setup: (dir: string) => { storage: Record<string, unknown>; open: () => ChatStore; cleanup: () => Promise<void> };
}> = [
  {
    name: 'sqlite',
    describeFn: describe,
    setup: (dir) => {
      const file = path.join(dir, 'chat.db');
      return {
        storage: { backend: 'sqlite', sqlite: { path: file } },
        open: () => new SqliteStore({ path: file }),
        cleanup: async () => undefined,
      };
    },
  },
  {
    name: 'postgres',
    describeFn: describeWithPg(pgReachable),
    setup: () => {
      const schema = uniqueSchema();
      return {
        storage: { backend: 'postgres', postgres: { url: PG_URL, schema, pool_size: 4 } },
        open: () => new PostgresStore({ url: PG_URL, schema, poolSize: 2 }),
        cleanup: () => dropSchema(schema),
      };
    },
  },
];

for (const backend of backends) {
  backend.describeFn(`graceful shutdown of a server process (${backend.name})`, () => {
    let dir: string;
    let env: ReturnType<(typeof backends)[number]['setup']>;
    const servers: ServerProcess[] = [];
    const clients: TestClient[] = [];
    let store: ChatStore | undefined;

    beforeEach(() => {
      dir = mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-proc-'));
      env = backend.setup(dir);
    });
    afterEach(async () => {
      await Promise.all(clients.splice(0).map((c) => c.close()));
      await Promise.all(servers.splice(0).map((s) => s.kill()));
      if (store?.isOpen) await store.close();
      store = undefined;
      await env.cleanup();
      rmSync(dir, { recursive: true, force: true });
    });

    it('SIGTERM under load: close 1001, exit 0, every acknowledged message durable, resume without gaps after restart', async () => {
      const configFile = writeConfig(dir, env.storage);
      const server = await startServerProcess({ NLWEB_CHAT_CONFIG: configFile });
      servers.push(server);
      const convA = await createConversation(server, 'alice', 'bob');
      const convB = await createConversation(server, 'carol', 'dave');
      const connect = async (conv: string, user: string): Promise<TestClient> => {
        const c = await connectClient(`${server.wsUrl}/chat/ws/${conv}?user_id=${user}`);
        clients.push(c);
        return c;
      };
      const sockets = [
        await connect(convA, 'alice'),
        await connect(convA, 'bob'),
        await connect(convB, 'carol'),
        await connect(convB, 'dave'),
      ];
      const loads = sockets.map((c, i) => startLoad(c, ['alice', 'bob', 'carol', 'dave'][i], 8));
      const totalAcks = (): number => loads.reduce((n, l) => n + l.acks.size, 0);
      // Under load: wait until a good number of messages went through, then SIGTERM while sends continue.
      await Promise.race(sockets.map((c) => c.until(() => totalAcks() >= 200)));
      server.child.kill('SIGTERM');

      const closes = await Promise.all(sockets.map((c) => c.closed));
      for (const close of closes) expect(close.code).toBe(1001);
      const exit = await server.exited;
      expect({ code: exit.code, stderr: server.stderr() }).toMatchObject({ code: 0 });
      // The log says what the shutdown handed over: the four sockets, both conversations, and records written by
      // the flush (under load some are always delivered and not yet persisted; none left unwritten at exit 0).
      const started = server.logs.find((l) => l.msg === 'shutting down');
      expect(started).toMatchObject({ websockets: 4, forwarded_websockets: 0, conversations: 2 });
      const complete = server.logs.find((l) => l.msg === 'shutdown complete');
      expect(complete).toMatchObject({ exit_code: 0, websockets: 4, conversations: 2, unflushed: 0 });
      expect(complete?.flushed).toEqual(expect.any(Number));
      expect(complete?.sockets_closed_ms).toBeLessThanOrEqual(complete?.took_ms as number);

      // Durable storage, read directly after the process is gone.
      store = env.open();
      await store.open();
      const byConversation = new Map([
        [convA, [0, 1]],
        [convB, [2, 3]],
      ]);
      let persistedAcks = 0;
      for (const [conv, idx] of byConversation) {
        const stored = await store.readMessages(conv, 0, 100_000);
        // The journal is gap-free: 1..N.
        expect(stored.map((m) => m.sequence_id)).toEqual(stored.map((_, i) => i + 1));
        const bySeq = new Map(stored.map((m) => [m.sequence_id, m]));
        for (const i of idx) {
          for (const [messageId, ack] of loads[i].acks) {
            if (ack.persisted) persistedAcks++;
            // exit 0 = everything flushed, so every ack (persisted:true or not yet) is in the journal.
            expect(bySeq.get(ack.seq)?.message_id).toBe(messageId);
          }
        }
      }
      expect(persistedAcks).toBeGreaterThan(0);
      await store.close();

      // Restart on the same storage: a client resuming from an old point receives exactly the rest, in order.
      const restarted = await startServerProcess({ NLWEB_CHAT_CONFIG: configFile });
      servers.push(restarted);
      const lastA = Math.max(...[...loads[0].acks.values(), ...loads[1].acks.values()].map((a) => a.seq));
      const resumeFrom = Math.floor(lastA / 2);
      const resumed = await connectClient(`${restarted.wsUrl}/chat/ws/${convA}?user_id=alice&last_sequence_id=${resumeFrom}`);
      clients.push(resumed);
      const sync = await resumed.waitFor('sync_complete');
      expect(sync.recovered).toBe(true);
      const seqs = resumed.sequenceIds();
      expect(seqs[0]).toBe(resumeFrom + 1);
      expect(seqs).toEqual(seqs.map((_, i) => resumeFrom + 1 + i));
      expect(seqs[seqs.length - 1]).toBeGreaterThanOrEqual(lastA);

      restarted.child.kill('SIGINT');
      await resumed.closed;
      expect((await restarted.exited).code).toBe(0);
    });
  });
}
