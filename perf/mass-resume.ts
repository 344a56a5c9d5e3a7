/**
 * A room's mass resume over a long history (docs/protocol.md, Measured, room of 100): 98 members resuming from 0 at
 * once on a 25 MB history (25,000 records of ~1 KB) while a live member posts every 10 ms. The server stack
 * (createChatServer + createChatRuntime, MemoryStore unbounded, dev auth, the message budget and mailbox raised to
 * fill the history fast) runs in its own process and reports the longest event-loop block (monitorEventLoopDelay)
 * and its peak RSS (sampled every 20 ms); raw `ws` clients in this process check every resumer's ids (1, 2, ...
 * with no gap and nothing twice, across the replay/live seam) and time the posts at another live socket.
 *
 * Not part of run-all: it loads both cores for ~30 s. Run alone: `npm run build && node dist/perf/mass-resume.js`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { monitorEventLoopDelay, performance } from 'node:perf_hooks';
import WebSocket from 'ws';
import { fmt, percentile, startBenchChatServer } from './bench-utils';

/** Smaller runs to try the script: MASS_RESUME_RECORDS, MASS_RESUME_RESUMERS. */
const RECORDS = Number(process.env['MASS_RESUME_RECORDS'] ?? 25_000);
const CONTENT = 'x'.repeat(1000);
const RESUMERS = Number(process.env['MASS_RESUME_RESUMERS'] ?? 98);
const POST_EVERY_MS = 10;
const CONVERSATION = 'mass-resume';
const POSTER = 'poster';
const WATCHER = 'watcher';
const resumerIds = Array.from({ length: RESUMERS }, (_, i) => `r${i}`);

// =============================================================================================
// Server side (a child process)
// =============================================================================================

async function serve(): Promise<void> {
  // The message budget and the mailbox raised to fill the history fast.
  const { runtime, port, close } = await startBenchChatServer({
    queue_size: 100_000,
    rate_limit_per_second: 100_000,
    rate_limit_burst: 1_000_000,
  });
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  let rssPeak = process.memoryUsage.rss();
  let cpuAtReset = process.cpuUsage();
  setInterval(() => (rssPeak = Math.max(rssPeak, process.memoryUsage.rss())), 20).unref();
  process.on('disconnect', () => process.exit(0));
  process.on('message', (msg: { id: number; cmd: string }) => {
    void (async () => {
      switch (msg.cmd) {
        case 'fill': {
          await runtime.createConversation({
            conversation_id: CONVERSATION,
            created_by: POSTER,
            participants: [WATCHER, ...resumerIds].map((u) => ({ participant_id: u, participant_type: 'human' as const })),
            autoJoinAgents: false,
          });
          for (let i = 0; i < RECORDS; i += 500) {
            const batch = Array.from({ length: Math.min(500, RECORDS - i) }, (_, j) =>
              runtime.post(CONVERSATION, { sender_id: POSTER, message_id: `h${i + j}`, content: CONTENT }),
            );
            const results = await Promise.all(batch);
            await results[results.length - 1]!.whenPersisted;
          }
          const last = (await runtime.getConversation(CONVERSATION)).last_sequence_id;
          return process.send!({ id: msg.id, last });
        }
        case 'reset':
          loop.reset();
          cpuAtReset = process.cpuUsage();
          rssPeak = process.memoryUsage.rss();
          return process.send!({ id: msg.id, rss: rssPeak });
        case 'stats': {
          // Since the reset: the resumes' CPU, not the history's filling.
          const cpu = process.cpuUsage(cpuAtReset);
          return process.send!({ id: msg.id, loopMaxMs: loop.max / 1e6, rssPeak, cpuMs: (cpu.user + cpu.system) / 1000 });
        }
        case 'stop':
          await close();
          process.send!({ id: msg.id }, () => process.exit(0));
          return;
      }
    })().catch((err: unknown) => {
      console.error('mass-resume server:', err);
      process.exit(1);
    });
  });
  process.send!({ ready: true, port });
}

// =============================================================================================
// Client side (this process)
// =============================================================================================

type Reply = Record<string, number>;

async function spawnServer(): Promise<{ port: number; request(cmd: string): Promise<Reply>; child: ChildProcess }> {
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
  const request = (cmd: string): Promise<Reply> =>
    new Promise((resolve) => {
      const id = nextId++;
      pending.set(id, resolve);
      child.send({ id, cmd });
    });
  return { port, request, child };
}

function socketUrl(port: number, user: string, params = ''): string {
  return `ws://127.0.0.1:${port}/chat/ws/${CONVERSATION}?user_id=${user}${params}`;
}

const MESSAGE_PREFIX = Buffer.from('{"type":"message"');
const SEQUENCE_KEY = '"sequence_id":';

/** The record's sequence id, read from its frame without parsing the rest (25 MB x 98 would be the client's whole run). */
function sequenceIdOf(frame: Buffer): number {
  const at = frame.indexOf(SEQUENCE_KEY) + SEQUENCE_KEY.length;
  let n = 0;
  for (let i = at; frame[i]! >= 48 && frame[i]! <= 57; i++) n = n * 10 + frame[i]! - 48;
  return n;
}

interface Resumer {
  last: number;
  syncTo: number | undefined;
  doneAt: number | undefined;
  faults: string[];
  closeCode: number | undefined;
}

function resume(port: number, user: string, onDone: () => void): { state: Resumer; ws: WebSocket } {
  const state: Resumer = { last: 0, syncTo: undefined, doneAt: undefined, faults: [], closeCode: undefined };
  const ws = new WebSocket(socketUrl(port, user, '&last_sequence_id=0'));
  ws.on('message', (data: Buffer) => {
    if (data.subarray(0, MESSAGE_PREFIX.length).equals(MESSAGE_PREFIX)) {
      const seq = sequenceIdOf(data);
      if (seq !== state.last + 1) state.faults.push(`${state.last} then ${seq}`);
      state.last = seq;
    } else if (data.includes('"type":"sync_complete"')) {
      const frame = JSON.parse(data.toString()) as { to: number; recovered: boolean };
      if (!frame.recovered || frame.to !== state.last) state.faults.push(`sync_complete ${data.toString()} after ${state.last}`);
      state.syncTo = frame.to;
      state.doneAt = performance.now();
      onDone();
    }
  });
  ws.on('close', (code) => {
    state.closeCode = code;
    if (state.doneAt === undefined) onDone();
  });
  return { state, ws };
}

function opened(ws: WebSocket): Promise<void> {
  return new Promise((resolve, reject) => {
    ws.once('open', () => resolve());
    ws.once('error', reject);
  });
}

async function main(): Promise<void> {
  const server = await spawnServer();
  const { last } = await server.request('fill');
  console.error(`filled: ${last} records`);
  const poster = new WebSocket(socketUrl(server.port, POSTER));
  const watcher = new WebSocket(socketUrl(server.port, WATCHER));
  await Promise.all([opened(poster), opened(watcher)]);
  const lateness: number[] = [];
  let posts = 0;
  let measuring = true;
  let watched = 0;
  let watchedAll: (() => void) | undefined;
  watcher.on('message', (data: Buffer) => {
    const sent = /"content":"t:([0-9.]+)"/.exec(data.toString());
    if (!sent) return;
    watched++;
    if (measuring) lateness.push(performance.now() - Number(sent[1]));
    if (!measuring && watched === posts) watchedAll?.();
  });
  const before = await server.request('reset');

  const posting = setInterval(() => {
    poster.send(JSON.stringify({ type: 'message', message_id: `p${posts++}`, content: `t:${performance.now()}` }));
  }, POST_EVERY_MS);
  const started = performance.now();
  let left = RESUMERS;
  let allDone!: () => void;
  const finished = new Promise<void>((resolve) => (allDone = resolve));
  const resumers = resumerIds.map((u) => resume(server.port, u, () => --left === 0 && allDone()));
  await finished;
  const took = performance.now() - started;
  console.error(`resumed: ${fmt(took / 1000)} s`);
  measuring = false;
  clearInterval(posting);
  const stats = await server.request('stats');

  // The posts made during the resumes follow each replay, contiguous with it: wait for the last of them.
  if (watched < posts) await new Promise<void>((resolve) => (watchedAll = resolve));
  await new Promise((resolve) => setTimeout(resolve, 500));
  const states = resumers.map((r) => r.state);
  const faults = states.flatMap((s, i) => s.faults.map((f) => `${resumerIds[i]}: ${f}`));
  const closed = states.filter((s) => s.closeCode !== undefined).map((s) => s.closeCode);
  const times = states.flatMap((s) => (s.doneAt === undefined ? [] : [s.doneAt - started]));

  console.log(
    `history: ${last} records (~${fmt((last * 1.1) / 1024, 1)} MB of frames), ${RESUMERS} resumers from 0, a post every ${POST_EVERY_MS} ms`,
  );
  console.log(
    `all sync_complete in ${fmt(took / 1000)} s (first ${fmt(Math.min(...times) / 1000)} s, median ${fmt(percentile(times, 50) / 1000)} s)`,
  );
  console.log(`connections closed before their sync_complete: ${closed.length} (${closed.join(', ') || 'none'})`);
  console.log(`faults (gap, duplicate, wrong sync_complete): ${faults.length}${faults.length ? `: ${faults.slice(0, 5).join('; ')}` : ''}`);
  console.log(
    `posts during the resumes at a live socket: ${lateness.length}, p50 ${fmt(percentile(lateness, 50))} ms, p99 ${fmt(percentile(lateness, 99))} ms, max ${fmt(Math.max(...lateness))} ms late`,
  );
  console.log(
    `server: event loop held at most ${fmt(stats.loopMaxMs!)} ms; RSS ${fmt(before.rss! / 2 ** 20, 0)} MB before, peak ${fmt(stats.rssPeak! / 2 ** 20, 0)} MB; CPU ${fmt(stats.cpuMs! / 1000)} s`,
  );
  console.log(
    `resumers' last ids: ${Math.min(...states.map((s) => s.last))}..${Math.max(...states.map((s) => s.last))} (history ${last}, posts ${posts})`,
  );

  for (const r of resumers) r.ws.close();
  poster.close();
  watcher.close();
  await server.request('stop');
}

if (process.argv[2] === '--server') void serve();
else
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
