/**
 * A room of 100 humans (plus the NLWeb stand-in agent) under the storms a large group makes, measured end to end:
 * every frame and byte the server sends (counted at the 100 raw `ws` clients, per frame type, in total and per
 * client), the server's CPU (process.cpuUsage), its event-loop delay (monitorEventLoopDelay, max and p99) and the
 * time from the storm's start to the last frame before the room went quiet (QUIET_MS without a frame anywhere).
 *
 *  - connect:   100 members of a room all connect at once (the start of a class);
 *  - reconnect: all 100 sockets cut and reconnected at once, resuming (a network blip);
 *  - join:      99 non-members connect with join=true at once while the owner is online (a webinar opening);
 *  - typing:    30 members type for 5 s, their clients sending a start per keystroke (every 250 ms), then a stop;
 *  - read:      50 records, then every member marks each of them read as it scrolls (a `read` per record, 50 ms apart);
 *  - burst:     200 posts from 20 senders at once, everyone online, the stand-in agent answering (multi mode).
 *
 * The server stack (createChatServer + createChatRuntime, MemoryStore, dev auth, default limits but
 * max_participants 101 for the agent, the stand-in as one auto-joined endpoint) runs in its own process, so its CPU
 * and event loop are its own. Not part of run-all (it loads both cores for ~1 min). Run alone:
 * `npm run build && node dist/perf/large-room-storms.js` (LARGE_ROOM_RUNS=3 repeats every storm;
 * LARGE_ROOM_READ_BATCHES=0 and LARGE_ROOM_PRESENCE_BATCHES=0 measure sockets that ask for no batches).
 */
import { fork } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { createChatRuntime } from '../actors';
import { createAgentsFromConfig } from '../actors/agents/create-agents-from-config';
import { loadConfig } from '../config';
import { createChatServer } from '../gateway';
import { MemoryStore } from '../storage-providers';
import { createNlwebStandinServer } from '../testing/nlweb-standin-server';
import { fmt, markdownTable, percentile } from './bench-utils';

const ROOM = 100;
const TYPISTS = 30;
const READ_RECORDS = 50;
const BURST_SENDERS = 20;
const BURST_PER_SENDER = 10;
/** Longer than every hold the server may still be waiting out (typing stop 1 s, read announcements 1 s, the 2 s multi-mode window). */
const QUIET_MS = 3000;
const RUNS = Number(process.env['LARGE_ROOM_RUNS'] ?? 1);
/** LARGE_ROOM_READ_BATCHES=0: the clients never ask for `read_batch` frames (a `read` frame per member, as before them). */
const READ_BATCHES = process.env['LARGE_ROOM_READ_BATCHES'] !== '0';
/**
 * LARGE_ROOM_PRESENCE_BATCHES=0: the clients do not offer the presence-batches subprotocol (a `presence` frame per
 * member and change, as before batches). Otherwise they offer it with the refusal one, as the reference client does.
 */
const PRESENCE_BATCHES = process.env['LARGE_ROOM_PRESENCE_BATCHES'] !== '0';
const SUBPROTOCOLS = PRESENCE_BATCHES ? ['nlweb-chat.refusals', 'nlweb-chat.presence-batches'] : [];
const userId = (i: number): string => `u${i}`;

// =============================================================================================
// Server side (a child process)
// =============================================================================================

async function serve(): Promise<void> {
  const standin = await createNlwebStandinServer({ latencyMs: 50, batches: 2 });
  const config = loadConfig({
    overrides: {
      server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' }, websocket: { max_authenticating_per_address: 0 } },
      chat: {
        limits: { max_participants: ROOM + 1 },
        nlweb: {
          endpoints: [{ id: 'nlweb', url: 'standin', site: 'all', mode: 'list', streaming: false, auto_join: true }],
          standin: { enabled: true },
        },
      },
      observability: { log_level: 'silent', metrics: { enabled: false } },
    },
  });
  const store = new MemoryStore();
  await store.open();
  const agents = createAgentsFromConfig(config, { standinUrl: standin.url });
  const runtime = await createChatRuntime({ config, storage: store, agents });
  const server = createChatServer({ runtime, config });
  const { port } = await server.listen();
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let cpuAtReset = process.cpuUsage();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: string; arg?: string }) => {
    void (async () => {
      switch (msg.cmd) {
        case 'create': {
          // arg: "<conversation id> <members>": the owner u0 and u1 .. u<members-1>.
          const [conversationId, members] = msg.arg!.split(' ');
          await runtime.createConversation({
            conversation_id: conversationId!,
            created_by: userId(0),
            participants: Array.from({ length: Number(members) - 1 }, (_, i) => ({
              participant_id: userId(i + 1),
              participant_type: 'human' as const,
            })),
            autoJoinAgents: true,
          });
          return process.send!({ id: msg.id });
        }
        case 'reset':
          loop.reset();
          cpuAtReset = process.cpuUsage();
          return process.send!({ id: msg.id });
        case 'stats': {
          const cpu = process.cpuUsage(cpuAtReset);
          return process.send!({
            id: msg.id,
            cpuMs: (cpu.user + cpu.system) / 1000,
            loopMaxMs: loop.max / 1e6,
            loopP99Ms: loop.percentile(99) / 1e6,
          });
        }
        case 'stop':
          await server.close();
          await runtime.close({ deadlineMs: 2000 });
          await store.close();
          await standin.close();
          process.send!({ id: msg.id }, () => process.exit(0));
          return;
      }
    })().catch((err: unknown) => {
      console.error('large-room-storms server:', err);
      process.exit(1);
    });
  });
  process.send!({ ready: true, port });
}

// =============================================================================================
// Client side (this process)
// =============================================================================================

type Reply = Record<string, number>;
interface ServerHandle {
  port: number;
  request(cmd: string, arg?: string): Promise<Reply>;
}

async function spawnServer(): Promise<ServerHandle> {
  const child = fork(__filename, ['--server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const pending = new Map<number, (reply: Reply) => void>();
  let nextId = 1;
  const port = await new Promise<number>((resolve, reject) => {
    child.once('exit', (code) => reject(new Error(`server exited with ${code}`)));
    child.on('message', (msg: { ready?: boolean; port?: number; id?: number }) => {
      if (msg.ready) return resolve(msg.port!);
      pending.get(msg.id!)?.(msg as Reply);
      pending.delete(msg.id!);
    });
  });
  const request = (cmd: string, arg?: string): Promise<Reply> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, cmd, arg });
    });
  return { port, request };
}

/** Every frame and byte all clients received since the last reset, and when the last one came. */
class Tally {
  frames = 0;
  bytes = 0;
  lastAt = performance.now();
  readonly byType = new Map<string, number>();
  reset(): void {
    this.frames = 0;
    this.bytes = 0;
    this.lastAt = performance.now();
    this.byType.clear();
  }
}

/** One member's raw socket, what it received since the last reset, and the roster it keeps from the frames. */
class Member {
  ws!: WebSocket;
  frames = 0;
  bytes = 0;
  lastSequenceId = 0;
  readonly typeCounts = new Map<string, number>();
  readonly roster = new Set<string>();
  readonly online = new Set<string>();
  /** Each member's read position as this client was last told (participant_list, `read`, `read_batch`). */
  readonly readPositions = new Map<string, number>();
  private waiters: Array<{ test: (f: Record<string, unknown>) => boolean; resolve: () => void }> = [];

  constructor(
    readonly id: string,
    private readonly tally: Tally,
  ) {}

  open(url: string): void {
    this.ws = new WebSocket(url, SUBPROTOCOLS);
    this.ws.on('message', (data: Buffer) => this.received(data));
    this.ws.on('error', () => undefined);
  }

  /** Resolves on the next frame passing `test` (a frame received from now on). */
  next(test: (f: Record<string, unknown>) => boolean): Promise<void> {
    return new Promise((resolve) => this.waiters.push({ test, resolve }));
  }

  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  resetCounts(): void {
    this.frames = 0;
    this.bytes = 0;
    this.typeCounts.clear();
  }

  private received(data: Buffer): void {
    const f = JSON.parse(data.toString()) as Record<string, unknown>;
    const type = String(f['type']);
    this.frames++;
    this.bytes += data.length;
    this.typeCounts.set(type, (this.typeCounts.get(type) ?? 0) + 1);
    this.tally.frames++;
    this.tally.bytes += data.length;
    this.tally.lastAt = performance.now();
    this.tally.byType.set(type, (this.tally.byType.get(type) ?? 0) + 1);
    this.keepRoster(type, f);
    // A server that offers read batches (docs/protocol.md, Read positions) is asked for them, as the reference client does.
    if (type === 'connected' && READ_BATCHES && (f['features'] as string[] | undefined)?.includes('read_batches'))
      this.send({ type: 'options', read_batches: true });
    const waiters = this.waiters;
    this.waiters = waiters.filter((w) => !w.test(f));
    for (const w of waiters) if (!this.waiters.includes(w)) w.resolve();
  }

  /** The reference client's roster, in short: the list once, then updates and presence; read positions only rise. */
  private keepRoster(type: string, f: Record<string, unknown>): void {
    const raise = (id: string, position: number): void => {
      this.readPositions.set(id, Math.max(position, this.readPositions.get(id) ?? 0));
    };
    if (type === 'participant_list') for (const [id, at] of Object.entries(f['read_positions'] as Record<string, number>)) raise(id, at);
    if (type === 'read') raise(String(f['participant_id']), f['sequence_id'] as number);
    if (type === 'read_batch') for (const [id, at] of Object.entries(f['positions'] as Record<string, number>)) raise(id, at);
    // A fresh connection's stream starts after `connected.last_sequence_id`: a resume from there replays nothing old.
    if (type === 'connected') this.lastSequenceId = Math.max(this.lastSequenceId, f['last_sequence_id'] as number);
    if (type === 'message') this.lastSequenceId = Math.max(this.lastSequenceId, (f['message'] as { sequence_id: number }).sequence_id);
    if (type === 'participant_list') {
      this.roster.clear();
      this.online.clear();
      for (const p of f['participants'] as Array<{ participant_id: string }>) this.roster.add(p.participant_id);
      for (const id of f['online'] as string[]) this.online.add(id);
    } else if (type === 'participant_update') {
      const id = (f['participant'] as { participant_id: string }).participant_id;
      if (f['action'] === 'join') this.roster.add(id);
      else this.roster.delete(id);
    } else if (type === 'presence') {
      if (f['online']) this.online.add(String(f['participant_id']));
      else this.online.delete(String(f['participant_id']));
    } else if (type === 'presence_batch') {
      for (const [id, online] of Object.entries(f['changes'] as Record<string, boolean>)) {
        if (online) this.online.add(id);
        else this.online.delete(id);
      }
    }
  }
}

interface StormResult {
  storm: string;
  frames: number;
  bytes: number;
  perClientFramesMedian: number;
  perClientFramesMax: number;
  perClientBytesMedian: number;
  quietAfterMs: number;
  cpuMs: number;
  loopMaxMs: number;
  loopP99Ms: number;
  byType: string;
  perClientPerSecond: number;
  note: string;
}

class Room {
  readonly tally = new Tally();
  members: Member[] = [];
  constructor(
    private readonly server: ServerHandle,
    readonly conversationId: string,
  ) {}

  url(id: string, params = ''): string {
    return `ws://127.0.0.1:${this.server.port}/chat/ws/${this.conversationId}?user_id=${id}${params}`;
  }

  /** Opens the sockets of `ids` at once; resolves when each has its participant_list. */
  async connect(ids: readonly string[], params: (m: Member) => string = () => ''): Promise<Member[]> {
    const opened = ids.map((id) => this.members.find((m) => m.id === id) ?? new Member(id, this.tally));
    for (const m of opened) if (!this.members.includes(m)) this.members.push(m);
    const listed = opened.map((m) => {
      const url = this.url(m.id, params(m));
      m.open(url);
      return m.next((f) => f['type'] === 'participant_list');
    });
    await Promise.all(listed);
    return opened;
  }

  /**
   * Waits until no client received a frame for QUIET_MS since the storm's last client frame was sent (what the server
   * holds for a while, a typing stop, comes after that); the time of the last frame since `t0`.
   */
  async quiet(t0: number): Promise<number> {
    const sentAt = performance.now();
    for (;;) {
      await new Promise((r) => setTimeout(r, 100));
      if (performance.now() - Math.max(this.tally.lastAt, sentAt) >= QUIET_MS) return this.tally.lastAt - t0;
    }
  }

  async measure(storm: string, run: () => Promise<void>, note: () => string = () => ''): Promise<StormResult> {
    await this.server.request('reset');
    this.tally.reset();
    for (const m of this.members) m.resetCounts();
    const t0 = performance.now();
    await run();
    const quietAfterMs = await this.quiet(t0);
    const stats = await this.server.request('stats');
    const frames = this.members.map((m) => m.frames);
    const byType = [...this.tally.byType].sort((a, b) => b[1] - a[1]).map(([t, n]) => `${t} ${n}`);
    return {
      storm,
      frames: this.tally.frames,
      bytes: this.tally.bytes,
      perClientFramesMedian: percentile(frames, 50),
      perClientFramesMax: Math.max(...frames),
      perClientBytesMedian: percentile(
        this.members.map((m) => m.bytes),
        50,
      ),
      quietAfterMs,
      cpuMs: stats['cpuMs']!,
      loopMaxMs: stats['loopMaxMs']!,
      loopP99Ms: stats['loopP99Ms']!,
      byType: byType.join(', '),
      perClientPerSecond: percentile(frames, 50) / Math.max(quietAfterMs / 1000, 0.001),
      note: note(),
    };
  }

  /** Whether every member's roster names all humans, and each names all the others online. */
  rosterNote(humans: number): string {
    const wrong = this.members.filter((m) => m.roster.size < humans || m.online.size < humans).length;
    return wrong === 0 ? 'every roster complete' : `${wrong} rosters incomplete`;
  }

  close(): void {
    for (const m of this.members) m.ws.terminate();
  }
}

const ids = (from: number, to: number): string[] => Array.from({ length: to - from }, (_, i) => userId(from + i));
const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function connectStorms(server: ServerHandle, run: number): Promise<StormResult[]> {
  const room = new Room(server, `class-${run}`);
  await server.request('create', `${room.conversationId} ${ROOM}`);
  const connect = await room.measure(
    'connect',
    () => room.connect(ids(0, ROOM)).then(() => undefined),
    () => room.rosterNote(ROOM),
  );
  const reconnect = await room.measure(
    'reconnect',
    async () => {
      for (const m of room.members) m.ws.terminate();
      await room.connect(
        room.members.map((m) => m.id),
        (m) => `&last_sequence_id=${m.lastSequenceId}`,
      );
    },
    () => room.rosterNote(ROOM),
  );
  const typing = await room.measure('typing', async () => {
    const typists = room.members.slice(1, 1 + TYPISTS);
    for (let t = 0; t < 5000; t += 250) {
      for (const m of typists) m.send({ type: 'typing', is_typing: true });
      await sleep(250);
    }
    for (const m of typists) m.send({ type: 'typing', is_typing: false });
  });
  // The records to read, posted by 5 members (the message budget's burst is 40 each), outside any measurement.
  const last = room.members[0]!.lastSequenceId;
  const delivered = room.members.map((m) =>
    m.next((f) => f['type'] === 'message' && (f['message'] as { sequence_id: number }).sequence_id >= last + READ_RECORDS),
  );
  for (let i = 0; i < READ_RECORDS; i++) room.members[i % 5]!.send({ type: 'message', message_id: `r${run}-${i}`, content: `record ${i}` });
  await Promise.all(delivered);
  await room.quiet(performance.now());
  const read = await room.measure(
    'read',
    async () => {
      for (let i = 1; i <= READ_RECORDS; i++) {
        for (const m of room.members) m.send({ type: 'read', sequence_id: last + i });
        await sleep(50);
      }
    },
    () => {
      const behind = room.members.filter((m) => room.members.some((r) => m.readPositions.get(r.id) !== last + READ_RECORDS)).length;
      return behind === 0 ? 'every client has every final position' : `${behind} clients miss a final position`;
    },
  );
  const burst = await room.measure('burst', async () => {
    const expected = room.members[0]!.lastSequenceId + BURST_SENDERS * BURST_PER_SENDER;
    const all = room.members.map((m) =>
      m.next((f) => f['type'] === 'message' && (f['message'] as { sequence_id: number }).sequence_id >= expected),
    );
    for (let s = 0; s < BURST_SENDERS; s++)
      for (let i = 0; i < BURST_PER_SENDER; i++)
        room.members[s]!.send({ type: 'message', message_id: `b${run}-${s}-${i}`, content: `burst ${s}/${i}` });
    await Promise.all(all);
  });
  room.close();
  return [connect, reconnect, typing, read, burst];
}

async function joinStorm(server: ServerHandle, run: number): Promise<StormResult> {
  const room = new Room(server, `webinar-${run}`);
  await server.request('create', `${room.conversationId} 1`);
  await room.connect([userId(0)]);
  const result = await room.measure(
    'join',
    () => room.connect(ids(1, ROOM), () => '&join=true').then(() => undefined),
    () => room.rosterNote(ROOM),
  );
  room.close();
  return result;
}

function report(results: StormResult[]): void {
  const rows = results.map((r) => [
    r.storm,
    String(r.frames),
    `${fmt(r.bytes / 1024)} KB`,
    `${r.perClientFramesMedian} / ${r.perClientFramesMax}`,
    `${fmt(r.perClientBytesMedian / 1024)} KB`,
    fmt(r.perClientPerSecond, 1),
    `${fmt(r.quietAfterMs, 0)} ms`,
    `${fmt(r.cpuMs, 0)} ms`,
    `${fmt(r.loopMaxMs, 1)} / ${fmt(r.loopP99Ms, 1)} ms`,
    r.note,
  ]);
  console.log(
    markdownTable(
      [
        'storm',
        'frames',
        'bytes',
        'per client frames (median / max)',
        'per client bytes (median)',
        'frames/client/s',
        'until quiet',
        'server CPU',
        'loop delay max / p99',
        'view',
      ],
      rows,
    ),
  );
  for (const r of results) console.log(`${r.storm}: ${r.byType}`);
}

async function main(): Promise<void> {
  const server = await spawnServer();
  try {
    for (let run = 0; run < RUNS; run++) {
      const results = [await joinStorm(server, run), ...(await connectStorms(server, run))];
      console.log(`\nrun ${run + 1} of ${RUNS}`);
      report(results);
    }
  } finally {
    await server.request('stop');
  }
}

if (process.argv.includes('--server')) void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
