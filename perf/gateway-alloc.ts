/**
 * Bytes the gateway's server allocates per message, and which functions allocate them: a figure that does
 * not move with the machine's load (CPU per message does, by tens of percent on the shared VM).
 *
 * The server (startBenchChatServer: createChatServer + createChatRuntime + MemoryStore, dev auth, no agents)
 * runs in a child process; the clients run here, so their allocations are not counted. The workload is the
 * gateway benchmark's throughput run (2-human rooms, every human posting with 5 of its own in flight), first
 * once unmeasured (warm-up: V8 compiles the hot path), then measured under V8's sampling heap profiler with
 * the objects collected since kept in the profile, so garbage counts as much as what the store retains.
 * The profile's sizes are estimates from samples (one per `--interval` bytes, 1 KiB by default): at ~10^5
 * samples per run the total moves by well under 1 % between runs.
 *
 * `--window=1` keeps one message of each sender in flight: a conversation's step then sequences one or two posts, as
 * at low load and in the latency benchmark, where the throughput run's 5 share one step (a step's own cost divided).
 *
 * Run: npm run build && node dist/perf/gateway-alloc.js [--rooms=200] [--per-sender=100] [--window=5] [--top=25] [--interval=1024]
 * [--out=/tmp/gateway.heapprofile] [--no-inline]
 */
import { fork } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { Session } from 'node:inspector/promises';
import { PerformanceObserver, constants as perfConstants } from 'node:perf_hooks';
import { WebSocket } from 'ws';
import { floodRooms, startBenchChatServer, type ContentConnection } from './bench-utils';
import { SERVER_NODE_FLAGS } from '../bin/server-node-flags';

interface Options {
  /** Where to write the whole profile as well (a .heapprofile opens in Chrome DevTools), if anywhere. */
  out: string | undefined;
  rooms: number;
  perSender: number;
  /** Messages of one sender in flight at once. */
  window: number;
  top: number;
  interval: number;
}

function options(argv: readonly string[]): Options {
  const num = (name: string, fallback: number): number => {
    const arg = argv.find((a) => a.startsWith(`--${name}=`));
    return arg === undefined ? fallback : Number(arg.slice(name.length + 3));
  };
  const out = argv.find((a) => a.startsWith('--out='))?.slice('--out='.length);
  return {
    out,
    rooms: num('rooms', 200),
    perSender: num('per-sender', 100),
    window: num('window', 5),
    top: num('top', 25),
    interval: num('interval', 1024),
  };
}

// ---- the profile ---------------------------------------------------------------------------------

interface ProfileNode {
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  selfSize: number;
  children: ProfileNode[];
}

/** One allocating function: bytes allocated in it (self), over the profile. */
export interface AllocationSite {
  readonly site: string;
  readonly bytes: number;
}

export interface AllocationSummary {
  readonly totalBytes: number;
  /** By function (name, file, line), largest first. */
  readonly sites: readonly AllocationSite[];
  /** By file (a built-in counts in its caller's file), largest first. */
  readonly files: readonly AllocationSite[];
}

/** Shortens a script URL to what tells the files apart: `dist/gateway/x.js`, `ws/lib/sender.js`, `node:internal/...`. */
function shortUrl(url: string): string {
  const nm = url.lastIndexOf('node_modules/');
  if (nm >= 0) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist >= 0) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/** Sums a sampling heap profile by allocating function. */
export function summarise(head: ProfileNode): AllocationSummary {
  const bySite = new Map<string, number>();
  const byFile = new Map<string, number>();
  let totalBytes = 0;
  const name = (f: ProfileNode['callFrame']): string => `${f.functionName || '(anonymous)'} ${shortUrl(f.url)}:${f.lineNumber + 1}`;
  const stack: { node: ProfileNode; caller: string }[] = [{ node: head, caller: '' }];
  while (stack.length > 0) {
    const { node, caller } = stack.pop()!;
    const f = node.callFrame;
    // A built-in (`Set`, `push`, `assign`) has no script: name the function that called it instead.
    const site = f.url === '' ? `${f.functionName || '(native)'} (native) <- ${caller}` : name(f);
    for (const child of node.children) stack.push({ node: child, caller: f.url === '' ? caller : site });
    if (node.selfSize === 0) continue;
    const file = (f.url === '' ? caller : site).replace(/^.* /, '').replace(/:\d+$/, '') || '(native)';
    byFile.set(file, (byFile.get(file) ?? 0) + node.selfSize);
    bySite.set(site, (bySite.get(site) ?? 0) + node.selfSize);
    totalBytes += node.selfSize;
  }
  const sorted = (m: Map<string, number>): AllocationSite[] =>
    [...m].map(([site, bytes]) => ({ site, bytes })).sort((a, b) => b.bytes - a.bytes);
  return { totalBytes, sites: sorted(bySite), files: sorted(byFile) };
}

// ---- server (child process) ----------------------------------------------------------------------

async function serverChild(opts: Options): Promise<void> {
  const { runtime, port } = await startBenchChatServer({
    max_participants: 1000,
    rate_limit_per_second: 100_000,
    rate_limit_burst: 1_000_000,
  });
  const session = new Session();
  session.connect();
  // Collections during the measured run: how often garbage made V8 stop (counts do not move with the machine's load).
  const collections = { minor: 0, major: 0 };
  const gcObserver = new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) {
      const kind = (entry.detail as { kind?: number } | undefined)?.kind;
      if (kind === perfConstants.NODE_PERFORMANCE_GC_MINOR) collections.minor++;
      else if (kind === perfConstants.NODE_PERFORMANCE_GC_MAJOR) collections.major++;
    }
  });
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { cmd: string; rooms?: string[] }) => {
    void (async () => {
      if (msg.cmd === 'setup') {
        for (const id of msg.rooms ?? []) {
          await runtime.createConversation({
            conversation_id: id,
            title: id,
            created_by: `${id}u0`,
            participants: [0, 1].map((i) => ({
              participant_id: `${id}u${i}`,
              participant_type: 'human' as const,
              role: i === 0 ? ('owner' as const) : ('member' as const),
            })),
            autoJoinAgents: false,
          });
        }
        process.send!({ cmd: 'setup' });
      } else if (msg.cmd === 'start') {
        await session.post('HeapProfiler.startSampling', {
          samplingInterval: opts.interval,
          includeObjectsCollectedByMajorGC: true,
          includeObjectsCollectedByMinorGC: true,
        } as never);
        gcObserver.observe({ entryTypes: ['gc'] });
        process.send!({ cmd: 'start' });
      } else if (msg.cmd === 'stop') {
        const { profile } = await session.post('HeapProfiler.stopSampling');
        gcObserver.disconnect();
        if (opts.out !== undefined) writeFileSync(opts.out, JSON.stringify(profile));
        const summary = summarise(profile.head as unknown as ProfileNode);
        process.send!({
          cmd: 'stop',
          collections,
          summary: { totalBytes: summary.totalBytes, sites: summary.sites.slice(0, opts.top), files: summary.files.slice(0, opts.top) },
        });
      }
    })().catch((err: unknown) => {
      console.error('gateway-alloc server:', err);
      process.exit(1);
    });
  });
  process.send!({ cmd: 'ready', port });
}

// ---- clients (this process) ----------------------------------------------------------------------

/** Every `message` frame starts with these bytes; acks and the rest are skipped unparsed, as in gateway-bench. */
const MESSAGE_PREFIX = Buffer.from('{"type":"message"');

/** Message ids handed out, and the frames other than `message` the clients got (acks, mostly) once connected. */
interface ClientCounts {
  next: number;
  otherFrames: number;
}

function connect(port: number, room: string, user: string, ids: ClientCounts): Promise<ContentConnection & { ws: WebSocket }> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/chat/ws/${room}?user_id=${user}`, { perMessageDeflate: false });
    let ready = false;
    const conn = {
      ws,
      send: (content: string) => ws.send(JSON.stringify({ type: 'message', message_id: `m${++ids.next}`, content })),
      onContent: (_content: string): void => undefined,
    };
    ws.on('message', (data: Buffer) => {
      if (ready && !data.subarray(0, MESSAGE_PREFIX.length).equals(MESSAGE_PREFIX)) {
        ids.otherFrames++;
        return;
      }
      const frame = JSON.parse(String(data)) as { type: string; message?: { content: string } };
      if (!ready) {
        if (frame.type === 'connected') {
          ready = true;
          resolve(conn);
        }
        return;
      }
      if (frame.type === 'message') conn.onContent(frame.message!.content);
    });
    ws.once('error', (err) => {
      if (!ready) reject(err);
    });
  });
}

async function main(): Promise<void> {
  const opts = options(process.argv);
  // --no-inline: V8 names an inlined function's allocations after the function it was inlined into; without inlining
  // each site is its own (the total then shifts a little: escape analysis removes fewer objects).
  // The flags `npm start` runs the server with (bin/server-node-flags.ts): the allocation measured is the deployed one.
  const execArgv = [...SERVER_NODE_FLAGS, ...(process.argv.includes('--no-inline') ? ['--no-turbo-inlining'] : [])];
  const child = fork(__filename, ['--server', ...process.argv.slice(2)], { execArgv, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const replies: { cmd: string; port?: number; summary?: AllocationSummary; collections?: { minor: number; major: number } }[] = [];
  const waiters: (() => void)[] = [];
  child.on('message', (m: { cmd: string }) => {
    replies.push(m);
    waiters.shift()?.();
  });
  child.once('exit', (code) => {
    if (code !== 0) {
      console.error(`server exited with ${code}`);
      process.exit(1);
    }
  });
  const reply = async (): Promise<(typeof replies)[number]> => {
    if (replies.length === 0) await new Promise<void>((r) => waiters.push(r));
    return replies.shift()!;
  };
  const request = async (cmd: string, extra: Record<string, unknown> = {}): Promise<(typeof replies)[number]> => {
    child.send({ cmd, ...extra });
    return reply();
  };
  const { port } = await reply();
  const ids: ClientCounts = { next: 0, otherFrames: 0 };
  let roomCounter = 0;
  const run = async (): Promise<void> => {
    const rooms = Array.from({ length: opts.rooms }, () => `a${++roomCounter}`);
    await request('setup', { rooms });
    const conns = await Promise.all(rooms.flatMap((r) => [0, 1].map((i) => connect(port!, r, `${r}u${i}`, ids))));
    await floodRooms(conns, opts.perSender, opts.window);
    await Promise.all(
      conns.map(
        (c) => new Promise<void>((res) => (c.ws.readyState === WebSocket.CLOSED ? res() : (c.ws.once('close', () => res()), c.ws.close()))),
      ),
    );
  };
  await run(); // warm-up, unmeasured
  ids.otherFrames = 0;
  await request('start');
  await run();
  // The journal append of the last posts may still be queued: give the server a moment before stopping.
  await new Promise((r) => setTimeout(r, 100));
  const { summary, collections } = await request('stop');
  child.disconnect();
  const messages = opts.rooms * 2 * opts.perSender;
  const perMsg = (bytes: number): string => (bytes / messages).toFixed(0).padStart(6);
  console.log(
    `gateway server: ${(summary!.totalBytes / messages).toFixed(0)} bytes allocated per message ` +
      `(${messages} messages, ${opts.rooms} rooms x 2 humans, ${opts.window} in flight per sender; connect and close of ${opts.rooms * 2} sockets included; sampling every ${opts.interval} bytes)`,
  );
  console.log(`collections during the run: ${collections!.minor} minor (scavenges), ${collections!.major} major`);
  // 1.00 when every post is answered by one ack that says persisted: true; up to 2 when a second ack follows.
  console.log(`frames other than \`message\` per message (acks): ${(ids.otherFrames / messages).toFixed(2)}`);
  console.log(`by file (bytes per message, self):`);
  for (const s of summary!.files.slice(0, opts.top)) console.log(`${perMsg(s.bytes)}  ${s.site}`);
  console.log(`top ${opts.top} allocating functions (bytes per message, self):`);
  for (const s of summary!.sites.slice(0, opts.top)) console.log(`${perMsg(s.bytes)}  ${s.site}`);
}

if (process.argv[2] === '--server') {
  void serverChild(options(process.argv));
} else if (require.main === module) {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
