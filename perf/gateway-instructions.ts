/**
 * Instructions the server process runs per message of the gateway benchmark's latency workload (2 humans, one
 * message at a time, A -> B), counted by valgrind's callgrind: a figure the load of the shared VM does not move
 * (latency runs swing 20-45 % between runs of the same build there).
 *
 * The server is the benchmark's own child (`gateway-bench.js --server <kind>`), run under callgrind with V8's
 * predictable mode (see step-instructions.ts) and a profile dump before every call of `write`/`writev` and of
 * `epoll_wait`/`epoll_pwait`: each dump holds the instructions since the previous one. A message is split at its
 * writes: from the event loop's poll to the first write (reading the sender's frame, parsing, validating,
 * sequencing, up to the moment the first frame is handed to the kernel: the gateway writes the peer first, so this
 * is what the peer waits for; the raw relay writes the sender first, so its peer waits for the second), then to
 * the second write, then the rest until the next poll. The clients run in this process.
 *
 * Probes: a temporary `process.cpuUsage()` call in the server (it calls getrusage, which also dumps) marks a
 * point; each message's segments between probes and writes are then printed as medians, in order (shape `p` for a
 * probe, `w` for a write). Each probe adds ~4-5k instructions to the segment it ends (process.cpuUsage's own work),
 * and dumping makes the run several times slower: enable them only after warm-up (a global flag set by a counter).
 *
 * Run: npm run build && node dist/perf/gateway-instructions.js [--kind=gateway|ws] [--warmup=2000] [--messages=200]
 * [--top=30]: `--top` lists the native functions (V8 builtins, runtime and compiler, libuv, libc) with the most
 * instructions before the first write; JIT-compiled JavaScript has no symbol and shows as one line. A run takes
 * 3-10 minutes (valgrind runs node ~50x slower). Fewer than ~2,000 warm-up messages leave code in V8's baseline tier.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { WebSocket } from 'ws';
import { percentile } from './bench-utils';
import { benchServerNodeFlags, spawnServer, type Kind as BenchKind, type ServerHandle } from './gateway-bench';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

type Kind = Extract<BenchKind, 'ws' | 'gateway'>;
const kind = arg('kind', 'gateway') as Kind;
const warmup = Number(arg('warmup', '2000'));
const messages = Number(arg('messages', '200'));
const top = Number(arg('top', '30'));

/** The benchmark's server child of `kind` under callgrind, dumping to `dumpFile` (see the header). */
function startServer(dumpFile: string): Promise<ServerHandle> {
  return spawnServer(kind, {
    execPath: 'valgrind',
    execArgv: [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--dump-before=write',
      '--dump-before=writev',
      '--dump-before=epoll_wait',
      '--dump-before=epoll_pwait',
      // Probes: a temporary `process.cpuUsage()` in the server marks a point (see the header).
      '--dump-before=*getrusage*',
      `--callgrind-out-file=${dumpFile}`,
      process.execPath,
      '--predictable',
      '--predictable-gc-schedule',
      ...benchServerNodeFlags(kind),
    ],
    stderr: 'ignore',
  });
}

interface Client {
  send(content: string): void;
  /** Resolves when a `message` frame with `content` arrives. */
  receive(content: string): Promise<void>;
  /** Closes the socket: the raw relay's close waits for its clients. */
  close(): Promise<void>;
}

let counter = 0;
function connect(port: number, room: string, user: string): Promise<Client> {
  const url =
    kind === 'ws' ? `ws://127.0.0.1:${port}/?room=${room}&user=${user}` : `ws://127.0.0.1:${port}/chat/ws/${room}?user_id=${user}`;
  const ws = new WebSocket(url, { perMessageDeflate: false });
  let waiting: { content: string; done: () => void } | undefined;
  return new Promise((resolve) => {
    ws.on('message', (data: Buffer) => {
      const frame = JSON.parse(String(data)) as { type: string; content?: string; message?: { content: string } };
      if (frame.type === 'joined' || frame.type === 'connected')
        resolve({
          send: (content) =>
            ws.send(JSON.stringify(kind === 'ws' ? { content } : { type: 'message', message_id: `m${++counter}`, content })),
          receive: (content) => new Promise<void>((done) => (waiting = { content, done })),
          close: () =>
            new Promise<void>((done) => {
              ws.once('close', () => done());
              ws.close();
            }),
        });
      if (frame.type !== 'message') return;
      const content = kind === 'ws' ? frame.content : frame.message?.content;
      if (waiting !== undefined && waiting.content === content) {
        const { done } = waiting;
        waiting = undefined;
        done();
      }
    });
  });
}

async function latencyLoop(a: Client, b: Client, count: number, tag: string): Promise<void> {
  for (let i = 0; i < count; i++) {
    const content = `${tag}-${i}`;
    const received = b.receive(content);
    a.send(content);
    await received;
  }
}

interface Dump {
  readonly trigger: 'write' | 'poll' | 'probe' | 'end';
  readonly instructions: number;
  readonly text: string;
}

function readDumps(dir: string): Dump[] {
  const files = readdirSync(dir)
    .map((name) => ({ name, n: Number(/\.(\d+)$/.exec(name)?.[1] ?? NaN) }))
    .filter((f) => Number.isFinite(f.n))
    .sort((x, y) => x.n - y.n);
  return files.map(({ name }) => {
    const text = readFileSync(path.join(dir, name), 'utf8');
    const trigger = /Trigger: --dump-before=(\S+)/.exec(text)?.[1];
    return {
      trigger: trigger === undefined ? 'end' : trigger.startsWith('write') ? 'write' : trigger.startsWith('epoll') ? 'poll' : 'probe',
      instructions: Number(/^summary: (\d+)/m.exec(text)?.[1] ?? 0),
      text,
    };
  });
}

/** Self instructions by native function name in one dump (callgrind's compressed names are per file). */
function selfCosts(text: string, into: Map<string, number>): void {
  const names = new Map<string, string>();
  const objects = new Map<string, string>();
  let fn = '';
  let skipNext = false;
  const named = (table: Map<string, string>, ref: string): string => {
    const m = /^\((\d+)\)(?: (.*))?$/.exec(ref);
    if (m === null) return ref;
    if (m[2] !== undefined) table.set(m[1]!, m[2]);
    return table.get(m[1]!) ?? ref;
  };
  let ob = '';
  for (const line of text.split('\n')) {
    if (line.startsWith('ob=')) ob = named(objects, line.slice(3));
    else if (line.startsWith('cob=')) named(objects, line.slice(4));
    else if (line.startsWith('fn=')) {
      const name = named(names, line.slice(3));
      fn = ob === '???' || ob === '' ? 'JIT-compiled or interpreted JavaScript (no symbol)' : name;
    } else if (line.startsWith('cfn=')) named(names, line.slice(4));
    else if (line.startsWith('calls=')) skipNext = true;
    else if (/^[+-]?\d/.test(line)) {
      if (skipNext) {
        skipNext = false;
        continue;
      }
      const cost = Number(line.split(' ')[1] ?? 0);
      into.set(fn, (into.get(fn) ?? 0) + cost);
    }
  }
}

async function main(): Promise<void> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'gateway-instructions-'));
  const server = await startServer(path.join(dir, 'cg.out'));
  const clients: Client[] = [];
  try {
    const room = { id: 'room1', users: ['alice', 'bob'] };
    await server.request('setup', { rooms: [room] });
    const a = await connect(server.port, room.id, 'alice');
    clients.push(a);
    const b = await connect(server.port, room.id, 'bob');
    clients.push(b);
    console.error('connected; warming up');
    await latencyLoop(a, b, warmup, 'warm');
    console.error('measuring');
    // What warm-up dumped is of no interest: the first dumps after this are skipped too (a segment under way).
    for (const name of readdirSync(dir)) if (/\.\d+$/.test(name)) rmSync(path.join(dir, name));
    await latencyLoop(a, b, messages, 'measured');
    await new Promise((r) => setTimeout(r, 500));
    console.error('reading the dumps');
    const dumps = readDumps(dir).filter((d) => d.trigger !== 'end');
    // A message: from a poll to the next poll, when a write comes in between (a poll that finds only a timer is
    // left out). Its segments end at each write and each probe (a probe makes two dumps a few instructions apart:
    // getrusage and its alias; they count as one).
    const cycles: { shape: string; segments: number[]; texts: string[] }[] = [];
    for (let i = 0; i < dumps.length; i++) {
      if (dumps[i]!.trigger !== 'poll') continue;
      const cycle = { shape: '', segments: [] as number[], texts: [] as string[] };
      let k = i + 1;
      for (; k < dumps.length && dumps[k]!.trigger !== 'poll'; k++) {
        const d = dumps[k]!;
        if (d.trigger === 'probe' && cycle.shape.endsWith('p') && d.instructions < 50) continue;
        if (d.trigger !== 'probe' && d.trigger !== 'write') continue;
        cycle.shape += d.trigger === 'write' ? 'w' : 'p';
        cycle.segments.push(d.instructions);
        cycle.texts.push(d.text);
      }
      if (k >= dumps.length || !cycle.shape.includes('w')) continue;
      // The segment from the last write or probe to the next poll (shape `e`): the rest of the message's work.
      cycle.shape += 'e';
      cycle.segments.push(dumps[k]!.instructions);
      cycle.texts.push(dumps[k]!.text);
      cycles.push(cycle);
    }
    // The first cycles may hold warm-up's tail.
    const measured = cycles.slice(10);
    const sumTo = (c: { shape: string; segments: number[] }, nthWrite: number): number => {
      let sum = 0;
      let seen = 0;
      for (let j = 0; j < c.segments.length; j++) {
        sum += c.segments[j]!;
        if (c.shape[j] === 'w' && ++seen === nthWrite) return sum;
      }
      return sum;
    };
    const med = (f: (c: (typeof measured)[number]) => number): number => percentile(measured.map(f), 50);
    console.log(
      `${kind}: ${measured.length} messages; instructions per message (median): up to the first write ${med((c) => sumTo(c, 1))}, ` +
        `up to the second ${med((c) => sumTo(c, 2))}, whole message ${med((c) => sumTo(c, Infinity))}; ` +
        `writes per message ${med((c) => c.shape.split('w').length - 1)}`,
    );
    // Segment by segment, for each shape seen (probes: temporary process.cpuUsage() calls in the server).
    const shapes = new Map<string, number[][]>();
    for (const c of measured) shapes.set(c.shape, [...(shapes.get(c.shape) ?? []), c.segments]);
    for (const [shape, list] of shapes) {
      if (list.length < 5) continue;
      const medians = [...shape].map((_, j) =>
        percentile(
          list.map((x) => x[j]!),
          50,
        ),
      );
      console.log(`  ${list.length} x ${shape}: ${medians.join(' ')}`);
    }
    if (top > 0) {
      const costs = new Map<string, number>();
      for (const c of measured) for (let j = 0; j <= c.shape.indexOf('w'); j++) selfCosts(c.texts[j]!, costs);
      const sum = [...costs.values()].reduce((x, y) => x + y, 0);
      console.log(`up to the first write, by native function (self, mean per message, of ${Math.round(sum / measured.length)}):`);
      for (const [name, cost] of [...costs.entries()].sort((x, y) => y[1] - x[1]).slice(0, top))
        console.log(`  ${Math.round(cost / measured.length)}\t${name}`);
    }
  } finally {
    await Promise.all(clients.map((c) => c.close()));
    await server.stop();
    rmSync(dir, { recursive: true, force: true });
  }
}

void main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
