/**
 * Gateway benchmark (issue 3): the same workload, in one run, against
 *   (a) a raw `ws` relay written here (parse, serialise once, send to every socket of the room),
 *   (b) Socket.IO 4 rooms (websocket transport only, no polling upgrade),
 *   (c) our gateway (createChatServer + createChatRuntime + MemoryStore, no agents, dev auth).
 * Each server runs in its own child process (so its RSS can be measured); the clients all run in
 * this process, one event loop, the same for every system. Systems are interleaved round-robin.
 *
 * Run: npm run build && node dist/perf/gateway-bench.js [--quick]
 */
import { fork, type ChildProcess } from 'node:child_process';
import http from 'node:http';
import os from 'node:os';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { Server as SocketIoServer } from 'socket.io';
import { io as socketIoClient, type Socket as SocketIoClientSocket } from 'socket.io-client';
import { WebSocket, WebSocketServer } from 'ws';
import { MeasuredPartProfiler } from './measured-part-profiler';
import { describeMachine, floodRooms, fmt, markdownTable, percentile, startBenchChatServer } from './bench-utils';
import { ownedPartEnd, writeOwnedPart } from './doc-part';
import { SERVER_NODE_FLAGS } from '../bin/server-node-flags';

export type Kind = 'ws' | 'socketio' | 'gateway';
const KINDS: readonly Kind[] = ['ws', 'socketio', 'gateway'];
const LABEL: Record<Kind, string> = { ws: 'raw ws', socketio: 'Socket.IO', gateway: 'gateway' };

interface Room {
  readonly id: string;
  readonly users: readonly string[];
}

// =============================================================================================
// Server side (child process)
// =============================================================================================

interface BenchServer {
  readonly port: number;
  /** Gateway: create the conversations with their members. The others need nothing. */
  setup(rooms: readonly Room[]): Promise<void>;
  close(): Promise<void>;
}

async function startRawWs(): Promise<BenchServer> {
  const wss = new WebSocketServer({ host: '127.0.0.1', port: 0, perMessageDeflate: false });
  await new Promise<void>((resolve) => wss.once('listening', () => resolve()));
  const rooms = new Map<string, Set<WebSocket>>();
  wss.on('connection', (ws, req) => {
    const url = new URL(req.url ?? '/', 'http://relay.invalid');
    const room = url.searchParams.get('room');
    const user = url.searchParams.get('user');
    // The relay's "auth": a caller must name itself, like the gateway's dev mode.
    if (!room || !user) return ws.close(4001, 'room and user required');
    let members = rooms.get(room);
    if (!members) rooms.set(room, (members = new Set()));
    members.add(ws);
    ws.send('{"type":"joined"}');
    ws.on('message', (data) => {
      let frame: { content?: unknown };
      try {
        frame = JSON.parse(String(data)) as { content?: unknown };
      } catch {
        return;
      }
      const out = JSON.stringify({ type: 'message', sender_id: user, content: frame.content });
      for (const peer of members!) if (peer.readyState === WebSocket.OPEN) peer.send(out);
    });
    ws.on('close', () => members!.delete(ws));
  });
  return {
    port: (wss.address() as AddressInfo).port,
    setup: async () => undefined,
    close: () => new Promise<void>((resolve) => wss.close(() => resolve())),
  };
}

async function startSocketIo(): Promise<BenchServer> {
  const server = http.createServer();
  const io = new SocketIoServer(server, { transports: ['websocket'], serveClient: false });
  io.on('connection', (socket) => {
    const { room, user } = socket.handshake.query as { room?: string; user?: string };
    if (!room || !user) return void socket.disconnect(true);
    void socket.join(room);
    socket.emit('joined');
    socket.on('message', (frame: { content?: unknown }) => {
      io.to(room).emit('message', { sender_id: user, content: frame?.content });
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  return {
    port: (server.address() as AddressInfo).port,
    setup: async () => undefined,
    close: () =>
      new Promise<void>((resolve) => {
        void io.close(() => resolve());
      }),
  };
}

async function startGateway(): Promise<BenchServer> {
  // The workload posts far faster than a human: lift the per-participant rate limit.
  const { runtime, port, close } = await startBenchChatServer({
    max_participants: 1000,
    rate_limit_per_second: 100_000,
    rate_limit_burst: 1_000_000,
  });
  return {
    port,
    async setup(rooms) {
      for (const room of rooms) {
        await runtime.createConversation({
          conversation_id: room.id,
          title: room.id,
          created_by: room.users[0]!,
          participants: room.users.map((u, i) => ({
            participant_id: u,
            participant_type: 'human' as const,
            role: i === 0 ? ('owner' as const) : ('member' as const),
          })),
          autoJoinAgents: false,
        });
      }
    },
    close,
  };
}

async function runServerChild(kind: Kind): Promise<void> {
  const server = kind === 'ws' ? await startRawWs() : kind === 'socketio' ? await startSocketIo() : await startGateway();
  const gc = (globalThis as { gc?: () => void }).gc;
  const profiler = new MeasuredPartProfiler(
    process.env.GATEWAY_BENCH_PROFILE_DIR,
    process.env.GATEWAY_BENCH_PROFILE_KIND === 'heap' ? 'heap' : 'cpu',
    Number(process.env.GATEWAY_BENCH_PROFILE_INTERVAL_US ?? 1000),
  );
  // The parent died or gave up: never linger as an orphan.
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: string; rooms?: Room[] }) => {
    void (async () => {
      switch (msg.cmd) {
        case 'setup':
          await server.setup(msg.rooms ?? []);
          return process.send!({ id: msg.id });
        case 'cpu': {
          const c = process.cpuUsage();
          return process.send!({ id: msg.id, cpuMicros: c.user + c.system });
        }
        case 'memory': {
          // Twice: the first pass may only queue finalizers.
          gc?.();
          gc?.();
          await new Promise((r) => setTimeout(r, 50));
          gc?.();
          const m = process.memoryUsage();
          return process.send!({ id: msg.id, rss: m.rss, heapUsed: m.heapUsed, gc: gc !== undefined });
        }
        case 'profile-start':
          await profiler.start();
          return process.send!({ id: msg.id });
        case 'profile-stop':
          await profiler.stop(`${kind}-${process.pid}`);
          return process.send!({ id: msg.id });
        case 'stop':
          await server.close();
          process.send!({ id: msg.id }, () => process.exit(0));
          return;
      }
    })().catch((err: unknown) => {
      console.error(`bench server ${kind}:`, err);
      process.exit(1);
    });
  });
  process.send!({ ready: true, port: server.port });
}

// =============================================================================================
// Client side (this process)
// =============================================================================================

export interface ServerHandle {
  readonly kind: Kind;
  readonly port: number;
  request(cmd: string, extra?: Record<string, unknown>): Promise<Record<string, number | boolean>>;
  stop(): Promise<void>;
}

/** Extra node flags for the server processes, e.g. GATEWAY_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof". */
function serverNodeArgs(): string[] {
  return (process.env['GATEWAY_BENCH_NODE_ARGS'] ?? '').split(' ').filter(Boolean);
}

/**
 * Node flags of every server child: those `npm start` passes (bin/server-node-flags.ts), so the gateway is measured as
 * deployed, and the raw relay and Socket.IO with the same ones, so a ratio compares code, not V8 settings (the flag
 * changes how long the relay's and Socket.IO's few surviving objects live too, if at all).
 */
export function benchServerNodeFlags(_kind: Kind): readonly string[] {
  return SERVER_NODE_FLAGS;
}

/** How a server child is started: by default node with --expose-gc; perf/gateway-instructions.ts runs it under valgrind. */
export interface ServerLaunch {
  readonly execPath?: string;
  readonly execArgv?: readonly string[];
  /** The child's stderr (valgrind's own report goes there). */
  readonly stderr?: 'inherit' | 'ignore';
}

/** A server child of this file (`--server <kind>`), answering the requests of runServerChild over IPC. */
export async function spawnServer(kind: Kind, launch: ServerLaunch = {}): Promise<ServerHandle> {
  const child: ChildProcess = fork(__filename, ['--server', kind], {
    execPath: launch.execPath,
    execArgv: [...(launch.execArgv ?? ['--expose-gc', ...benchServerNodeFlags(kind), ...serverNodeArgs()])],
    stdio: ['ignore', 'inherit', launch.stderr ?? 'inherit', 'ipc'],
  });
  type Waiter = { resolve(reply: Record<string, number | boolean>): void; reject(err: Error): void };
  const pending = new Map<number, Waiter>();
  let nextId = 1;
  let stopping = false;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  let failStartup: (err: Error) => void = () => undefined;
  child.once('exit', (code) => {
    // A crashed server must fail the run, not leave a promise nobody settles.
    const err = new Error(`bench server ${kind} exited with ${code}`);
    failStartup(err);
    for (const w of pending.values()) if (!stopping) w.reject(err);
    pending.clear();
  });
  const port = await new Promise<number>((resolve, reject) => {
    failStartup = reject;
    child.on('message', (msg: { ready?: boolean; port?: number; id?: number }) => {
      if (msg.ready) return resolve(msg.port!);
      const w = pending.get(msg.id!);
      pending.delete(msg.id!);
      w?.resolve(msg as Record<string, number | boolean>);
    });
  });
  const request = (cmd: string, extra: Record<string, unknown> = {}): Promise<Record<string, number | boolean>> =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      child.send({ id, cmd, ...extra });
    });
  return {
    kind,
    port,
    request,
    async stop() {
      if (child.exitCode !== null) return;
      stopping = true;
      child.send({ id: 0, cmd: 'stop' });
      await exited;
    },
  };
}

/** A connected participant, whatever the system: send a content string, be told of each content received. */
interface BenchConn {
  send(content: string): void;
  onContent: (content: string) => void;
  close(): Promise<void>;
}

let messageCounter = 0;
/** Every `message` frame of the relay and the gateway starts with these bytes. */
const MESSAGE_PREFIX = Buffer.from('{"type":"message"');

function connect(handle: ServerHandle, room: string, user: string): Promise<BenchConn> {
  const { kind, port } = handle;
  if (kind === 'socketio') {
    return new Promise((resolve, reject) => {
      const socket: SocketIoClientSocket = socketIoClient(`http://127.0.0.1:${port}`, {
        transports: ['websocket'],
        query: { room, user },
        forceNew: true,
        reconnection: false,
      });
      const conn: BenchConn = {
        send: (content) => void socket.emit('message', { content }),
        onContent: () => undefined,
        close: () =>
          new Promise<void>((res) => {
            if (socket.disconnected) return res();
            socket.once('disconnect', () => res());
            socket.disconnect();
          }),
      };
      socket.on('message', (m: { content: string }) => conn.onContent(m.content));
      socket.once('joined', () => resolve(conn));
      socket.once('connect_error', reject);
    });
  }
  const url =
    kind === 'ws'
      ? `ws://127.0.0.1:${port}/?room=${encodeURIComponent(room)}&user=${encodeURIComponent(user)}`
      : `ws://127.0.0.1:${port}/chat/ws/${encodeURIComponent(room)}?user_id=${encodeURIComponent(user)}`;
  const readyType = kind === 'ws' ? 'joined' : 'connected';
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    let ready = false;
    const conn: BenchConn = {
      send: (content) =>
        ws.send(
          kind === 'ws' ? JSON.stringify({ content }) : JSON.stringify({ type: 'message', message_id: `m${++messageCounter}`, content }),
        ),
      onContent: () => undefined,
      close: () =>
        new Promise<void>((res) => {
          if (ws.readyState === WebSocket.CLOSED) return res();
          ws.once('close', () => res());
          ws.close();
        }),
    };
    ws.on('message', (data: Buffer) => {
      // Acks, persisted and presence frames are skipped unparsed once connected: the shared client loop
      // should spend its time on what is measured, not on frames the other systems do not send.
      if (ready && !data.subarray(0, MESSAGE_PREFIX.length).equals(MESSAGE_PREFIX)) return;
      const frame = JSON.parse(String(data)) as { type: string; content?: string; message?: { content: string } };
      if (!ready) {
        if (frame.type === readyType) {
          ready = true;
          resolve(conn);
        }
        return;
      }
      if (frame.type !== 'message') return;
      conn.onContent(kind === 'ws' ? frame.content! : frame.message!.content);
    });
    ws.once('error', (err) => {
      if (!ready) reject(err);
    });
  });
}

async function connectAll(handle: ServerHandle, rooms: readonly Room[], concurrency = 200, setup = true): Promise<BenchConn[][]> {
  if (setup) await handle.request('setup', { rooms });
  const jobs: { r: number; u: number }[] = [];
  rooms.forEach((room, r) => room.users.forEach((_u, u) => jobs.push({ r, u })));
  const out: BenchConn[][] = rooms.map(() => []);
  for (let i = 0; i < jobs.length; i += concurrency) {
    await Promise.all(
      jobs.slice(i, i + concurrency).map(async ({ r, u }) => {
        out[r]![u] = await connect(handle, rooms[r]!.id, rooms[r]!.users[u]!);
      }),
    );
  }
  return out;
}

async function closeAll(conns: readonly (readonly BenchConn[])[]): Promise<void> {
  await Promise.all(conns.flat().map((c) => c.close()));
}

let roomCounter = 0;
function makeRooms(count: number, size: number): Room[] {
  return Array.from({ length: count }, () => {
    const id = `r${++roomCounter}`;
    return { id, users: Array.from({ length: size }, (_, i) => `${id}u${i}`) };
  });
}

/** Waits until each of `conns` has received `content`; resolves with the time the last one did. */
function allReceive(conns: readonly BenchConn[], content: string): Promise<number> {
  return new Promise((resolve) => {
    let left = conns.length;
    for (const c of conns) {
      const prev = c.onContent;
      c.onContent = (got) => {
        if (got !== content) return;
        c.onContent = prev;
        if (--left === 0) resolve(performance.now());
      };
    }
  });
}

// ---- workloads ------------------------------------------------------------------------------

/** One-way latency A -> B (sequential round trips of one message each). */
async function latencyRun(handle: ServerHandle, samples: number, warmup: number): Promise<number[]> {
  const rooms = makeRooms(1, 2);
  const [[a, b]] = (await connectAll(handle, rooms)) as [[BenchConn, BenchConn]];
  const out: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const content = `lat-${i}`;
    const received = allReceive([b], content);
    const t0 = performance.now();
    a.send(content);
    const t1 = await received;
    if (i >= warmup) out.push(t1 - t0);
  }
  await closeAll([[a, b]]);
  return out;
}

/** Time until the last of `size` participants (the sender included) receives one message. */
async function fanoutRun(handle: ServerHandle, size: number, samples: number, warmup: number): Promise<number[]> {
  const conns = (await connectAll(handle, makeRooms(1, size)))[0]!;
  const out: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const content = `fan-${i}`;
    const received = allReceive(conns, content);
    const t0 = performance.now();
    conns[0]!.send(content);
    const t1 = await received;
    if (i >= warmup) out.push(t1 - t0);
  }
  await closeAll([conns]);
  return out;
}

/**
 * Throughput: `rooms` conversations x 2 humans, each human posts `perSender` messages keeping at
 * most `window` of its own in flight (until its own copy comes back). Result: posted messages/s,
 * measured until every copy has reached both members.
 */
async function throughputRun(
  handle: ServerHandle,
  roomCount: number,
  perSender: number,
  window: number,
): Promise<{ rate: number; cpuPerMessageUs: number; serverBusy: number; clientBusy: number }> {
  const conns = await connectAll(handle, makeRooms(roomCount, 2));
  const flat = conns.flat();
  const cpu0 = (await handle.request('cpu'))['cpuMicros'] as number;
  const clientCpu0 = process.cpuUsage();
  const t0 = performance.now();
  await floodRooms(flat, perSender, window);
  const seconds = (performance.now() - t0) / 1000;
  // Server CPU over the run: separates "the server is slower" from "the shared client loop is the limit".
  const clientCpu = process.cpuUsage(clientCpu0);
  const cpuMicros = ((await handle.request('cpu'))['cpuMicros'] as number) - cpu0;
  await closeAll(conns);
  const messages = flat.length * perSender;
  return {
    rate: messages / seconds,
    cpuPerMessageUs: cpuMicros / messages,
    serverBusy: cpuMicros / 1e6 / seconds,
    clientBusy: (clientCpu.user + clientCpu.system) / 1e6 / seconds,
  };
}

/** Sequential connect + auth + join, each socket closed before the next. */
async function handshakeRun(handle: ServerHandle, samples: number, warmup: number): Promise<number[]> {
  const rooms = makeRooms(1, 2);
  await handle.request('setup', { rooms });
  const out: number[] = [];
  for (let i = 0; i < warmup + samples; i++) {
    const t0 = performance.now();
    const c = await connect(handle, rooms[0]!.id, rooms[0]!.users[i % 2]!);
    const t1 = performance.now();
    if (i >= warmup) out.push(t1 - t0);
    await c.close();
  }
  return out;
}

/** RSS (and heap) per idle connection in a fresh server process. */
async function memoryRun(
  kind: Kind,
  connections: number,
  roomSize: number,
): Promise<{ rssPerConn: number; heapPerConn: number; gc: boolean }> {
  const handle = await spawnServer(kind);
  try {
    const rooms = makeRooms(Math.ceil(connections / roomSize), roomSize);
    await handle.request('setup', { rooms });
    const before = await handle.request('memory');
    const conns = await connectAll(handle, rooms, 250, false);
    const after = await handle.request('memory');
    await closeAll(conns);
    return {
      rssPerConn: ((after['rss'] as number) - (before['rss'] as number)) / connections,
      heapPerConn: ((after['heapUsed'] as number) - (before['heapUsed'] as number)) / connections,
      gc: after['gc'] === true,
    };
  } finally {
    await handle.stop();
  }
}

// ---- orchestration --------------------------------------------------------------------------

interface Results {
  latency: number[];
  fanout: number[];
  throughput: number[];
  /** Server CPU (user + system) per posted message during the throughput runs, µs. */
  cpuPerMessage: number[];
  /** Server CPU seconds per wall second during the throughput runs (1 = one core saturated). */
  serverBusy: number[];
  /** The same for the benchmark (client) process. */
  clientBusy: number[];
  handshake: number[];
  rssPerConn: number;
  heapPerConn: number;
}

/**
 * `--throughput-only[=kind]`: long throughput runs of one system and nothing else, for profiling the
 * server (GATEWAY_BENCH_PROFILE_DIR=<dir> profiles runs 2 and 3; a short run is dominated by start-up).
 */
async function throughputOnly(kind: Kind): Promise<void> {
  const handle = await spawnServer(kind);
  try {
    for (let i = 0; i < 3; i++) {
      if (i === 1) await handle.request('profile-start');
      const tp = await throughputRun(handle, 200, 250, 5);
      if (i === 2) await handle.request('profile-stop');
      console.log(
        `${LABEL[kind]} run ${i + 1}: ${fmt(tp.rate)} msg/s, server CPU ${fmt(tp.cpuPerMessageUs)} µs/msg, server busy ${fmt(tp.serverBusy)}, client busy ${fmt(tp.clientBusy)}`,
      );
    }
  } finally {
    await handle.stop();
  }
}

/**
 * `--latency-only[=kind]`: latency runs of one system and nothing else (no throughput run's garbage or
 * heap growth in between), to tell the system's own tail from the tail another workload leaves behind.
 * After the full run's warm-up, so its figures compare with the table's; also prints the server's CPU
 * per round trip. GATEWAY_BENCH_PROFILE_DIR=<dir> writes a CPU profile of the measured runs only.
 */
async function latencyOnly(kind: Kind): Promise<void> {
  const handle = await spawnServer(kind);
  try {
    // The same unmeasured warm-up as the full run, so these figures compare with its table.
    await throughputRun(handle, 50, 40, 5);
    await latencyRun(handle, 2000, 0);
    await handle.request('profile-start');
    for (let i = 0; i < 3; i++) {
      const cpuBefore = (await handle.request('cpu')).cpuMicros as number;
      const samples = await latencyRun(handle, 400, 10);
      const cpuMicros = ((await handle.request('cpu')).cpuMicros as number) - cpuBefore;
      if (i === 2) await handle.request('profile-stop');
      console.log(
        `${LABEL[kind]} latency run ${i + 1}: p50 ${fmt(percentile(samples, 50))} ms, p99 ${fmt(percentile(samples, 99))} ms, max ${fmt(Math.max(...samples))} ms, ${samples.filter((x) => x > 0.5).length} over 0.5 ms, server CPU ${fmt(cpuMicros / 410)} µs/msg (connect and close included)`,
      );
    }
  } finally {
    await handle.stop();
  }
}

async function main(): Promise<void> {
  const only = process.argv.find((a) => a.startsWith('--throughput-only'));
  if (only) return throughputOnly((only.split('=')[1] as Kind | undefined) ?? 'gateway');
  const latencyKind = process.argv.find((a) => a.startsWith('--latency-only'));
  if (latencyKind) return latencyOnly((latencyKind.split('=')[1] as Kind | undefined) ?? 'gateway');
  const quick = process.argv.includes('--quick');
  const p = quick
    ? { rounds: 1, lat: 50, latChunks: 2, fan: 5, fanChunks: 2, fanSize: 100, tpRooms: 50, tpPer: 10, hs: 50, memConns: 500 }
    : { rounds: 3, lat: 100, latChunks: 10, fan: 10, fanChunks: 5, fanSize: 100, tpRooms: 200, tpPer: 100, hs: 150, memConns: 5000 };
  const started = performance.now();
  // Other processes on the machine skew every system alike (they are interleaved) but add noise: say so.
  const loadAtStart = os.loadavg()[0]!;
  console.log(`gateway bench (${quick ? 'quick' : 'full'}) on ${describeMachine()}`);
  const results = Object.fromEntries(
    KINDS.map((k) => [
      k,
      {
        latency: [],
        fanout: [],
        throughput: [],
        cpuPerMessage: [],
        serverBusy: [],
        clientBusy: [],
        handshake: [],
        rssPerConn: NaN,
        heapPerConn: NaN,
      },
    ]),
  ) as unknown as Record<Kind, Results>;

  const handles = Object.fromEntries(await Promise.all(KINDS.map(async (k) => [k, await spawnServer(k)] as const))) as Record<
    Kind,
    ServerHandle
  >;
  try {
    // Measure steady state: every system first runs the workloads unmeasured until its JIT has compiled the
    // hot path. The gateway has far more code to compile than the relay; measured cold, its first round's
    // latency samples were 2-3x slower than later ones and made up most of the pooled p99.
    for (const kind of KINDS) {
      await throughputRun(handles[kind], 50, quick ? 10 : 40, 5);
      await latencyRun(handles[kind], quick ? 200 : 2000, 0);
    }
    for (let round = 0; round < p.rounds; round++) {
      // Rotate the order each round so no system always runs first (JIT warm-up, GC debt).
      const order = KINDS.map((_, i) => KINDS[(i + round) % KINDS.length]!);
      // A latency or fan-out run lasts tens of milliseconds, about as long as a stall of this VM (host, other
      // tenants): one stall used to land on one system's whole run and decide its p99. So they are measured in
      // chunks, the systems taking turns chunk by chunk, and a stall spreads over all of them.
      for (let chunk = 0; chunk < p.latChunks; chunk++) {
        for (const kind of order) results[kind].latency.push(...(await latencyRun(handles[kind], p.lat, 10)));
      }
      for (let chunk = 0; chunk < p.fanChunks; chunk++) {
        const warmup = round === 0 && chunk === 0 ? 5 : 1;
        for (const kind of order) results[kind].fanout.push(...(await fanoutRun(handles[kind], p.fanSize, p.fan, warmup)));
      }
      for (const kind of order) {
        const h = handles[kind];
        const r = results[kind];
        const tp = await throughputRun(h, p.tpRooms, p.tpPer, 5);
        r.throughput.push(tp.rate);
        r.cpuPerMessage.push(tp.cpuPerMessageUs);
        r.serverBusy.push(tp.serverBusy);
        r.clientBusy.push(tp.clientBusy);
        r.handshake.push(...(await handshakeRun(h, p.hs, round === 0 ? 20 : 5)));
        process.stdout.write(
          `  round ${round + 1}/${p.rounds} ${LABEL[kind]} done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`,
        );
      }
    }
  } finally {
    await Promise.all(KINDS.map((k) => handles[k].stop()));
  }
  let gcAvailable = true;
  for (const kind of KINDS) {
    const m = await memoryRun(kind, p.memConns, 100);
    results[kind].rssPerConn = m.rssPerConn;
    results[kind].heapPerConn = m.heapPerConn;
    gcAvailable &&= m.gc;
    process.stdout.write(`  memory ${LABEL[kind]} done (${((performance.now() - started) / 1000).toFixed(1)} s)\n`);
  }
  const totalSeconds = (performance.now() - started) / 1000;

  const median = (xs: number[]): number => percentile(xs, 50);
  type Row = { name: string; unit: string; value: (r: Results) => number; goal: string; higherIsBetter?: boolean };
  const rows: Row[] = [
    { name: 'latency p50 (2 humans)', unit: 'ms', value: (r) => percentile(r.latency, 50), goal: 'gateway <= 1.3x' },
    { name: 'latency p99 (2 humans)', unit: 'ms', value: (r) => percentile(r.latency, 99), goal: 'gateway <= 1.3x' },
    { name: `fan-out to ${p.fanSize}, last receiver p50`, unit: 'ms', value: (r) => percentile(r.fanout, 50), goal: 'gateway <= 1.3x' },
    {
      name: `throughput ${p.tpRooms} conv x 2 humans (median of ${p.rounds})`,
      unit: 'msg/s',
      value: (r) => median(r.throughput),
      goal: 'gateway >= 0.75x and > Socket.IO',
      higherIsBetter: true,
    },
    { name: 'server CPU per message (throughput runs)', unit: 'µs', value: (r) => median(r.cpuPerMessage), goal: '-' },
    { name: 'server CPU busy (throughput runs, 1 = a core)', unit: 'cores', value: (r) => median(r.serverBusy), goal: '-' },
    { name: 'client process CPU busy (throughput runs)', unit: 'cores', value: (r) => median(r.clientBusy), goal: '-' },
    { name: 'handshake p50 (connect+auth+join)', unit: 'ms', value: (r) => percentile(r.handshake, 50), goal: 'gateway < 1 ms' },
    { name: `server RSS per idle connection (${p.memConns})`, unit: 'KiB', value: (r) => r.rssPerConn / 1024, goal: '-' },
    { name: `server heap per idle connection (${p.memConns})`, unit: 'KiB', value: (r) => r.heapPerConn / 1024, goal: '-' },
  ];
  const header = ['metric', 'unit', 'raw ws', 'Socket.IO', 'gateway', 'Socket.IO / ws', 'gateway / ws', 'goal'];
  const tableRows = rows.map((row) => {
    const v = KINDS.map((k) => row.value(results[k]));
    const [ws, sio, gw] = v as [number, number, number];
    return [row.name, row.unit, fmt(ws), fmt(sio), fmt(gw), `${fmt(sio / ws)}x`, `${fmt(gw / ws)}x`, row.goal];
  });
  const table = markdownTable(header, tableRows);
  console.log(`\n${table}\n\nwhole run: ${totalSeconds.toFixed(1)} s`);

  if (!quick) {
    const samples = `latency ${p.rounds}x${p.latChunks}x${p.lat} samples, fan-out ${p.rounds}x${p.fanChunks}x${p.fan}, throughput ${p.rounds} runs of ${p.tpRooms * 2 * p.tpPer} messages (window 5 per sender), handshake ${p.rounds}x${p.hs}`;
    const body = [
      `Measured ${new Date().toISOString().slice(0, 10)} by \`node dist/perf/gateway-bench.js\` (whole run ${totalSeconds.toFixed(0)} s) on ${describeMachine()}; 1-minute load average ${loadAtStart.toFixed(1)} at the start (${os.loadavg()[0]!.toFixed(1)} at the end).`,
      '',
      'Same workload, same run, systems interleaved round-robin (order rotated each round; latency and fan-out in chunks,',
      'the systems taking turns chunk by chunk, so a stall of the VM does not land on one system), each first warmed up unmeasured',
      '(one short throughput run and 2,000 latency round trips) so steady state is measured. Each server runs in its own',
      `child process, each with the node flags \`npm start\` passes (\`${SERVER_NODE_FLAGS.join(' ')}\`, bin/server-node-flags.ts);`,
      'all clients run in the benchmark process (raw `ws` clients for the relay and the gateway,',
      '`socket.io-client` with the websocket transport for Socket.IO). The raw relay parses each frame, serialises the',
      'outgoing frame once and sends it to every socket of the room (sender included); Socket.IO uses `io.to(room).emit`;',
      'the gateway is `createChatServer` + `createChatRuntime` + `MemoryStore`, no agents, dev auth, rate limit lifted.',
      'The gateway does more per message than the others: sequencing (one machine step per turn for the posts of that',
      'turn), journal append, and a `message_ack` to the sender in the same socket write as its echo (one write per',
      'socket per turn, except in turns that write to more than 8 sockets); the benchmark clients skip acks unparsed.',
      '',
      table,
      '',
      `Samples: ${samples}. Memory: a fresh server process per system, ${p.memConns} idle connections in rooms of 100,`,
      `\`process.memoryUsage()\` delta in the server process after ${gcAvailable ? 'forced GC (--expose-gc)' : 'no forced GC'}; the gateway's conversations`,
      'and members exist before the baseline, so the delta is the cost of the connections (socket + subscription) alone.',
      '"server CPU" is `process.cpuUsage()` of the server process over the throughput runs: per posted message, and per',
      'wall second; "client process CPU busy" is the same for the benchmark process that runs every client (near 1 core:',
      'the shared client loop, not the server, limited that throughput run).',
      '',
      'Reproduce: `npm run build && node dist/perf/gateway-bench.js` (`--quick`: a short run that does not write this',
      'file; a full run rewrites this section down to here and keeps the dated notes below as they are written).',
      '`GATEWAY_BENCH_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof"` passes node flags to the server processes;',
      '`--throughput-only[=ws|socketio|gateway]` runs only long throughput runs of one system (what to profile);',
      '`--latency-only[=ws|socketio|gateway]` only latency runs (after the same warm-up), with no other workload in between,',
      'and the server CPU per round trip. `GATEWAY_BENCH_PROFILE_DIR=/tmp/prof` with either profiles only the measured runs',
      "(`GATEWAY_BENCH_PROFILE_KIND=heap`: every allocation's site, garbage included, instead of CPU;",
      '`GATEWAY_BENCH_PROFILE_INTERVAL_US=100`: CPU samples every 100 µs instead of every 1 ms, for the short latency runs).',
    ].join('\n');
    // Its own part only: the dated notes written by hand below it stay (doc-part.ts).
    writeOwnedPart(path.resolve(__dirname, '../../docs/benchmarks.md'), '## Gateway', body, ownedPartEnd('perf/gateway-bench.ts'));
    console.log('wrote the "## Gateway" table of docs/benchmarks.md (the notes below it kept)');
  }
}

if (process.argv[2] === '--server') {
  void runServerChild(process.argv[3] as Kind);
} else if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
