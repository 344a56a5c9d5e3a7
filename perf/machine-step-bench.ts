/**
 * What one POSTS step of the conversation machine costs, against the same work without xstate measured in the same
 * run: the load of the shared 2-core VM moves absolute times by tens of percent, the ratios much less.
 *
 * Subjects (a 2-human conversation, one post per step: what the latency benchmark's round trip sends):
 *   reducer  acceptPosts and the context copy the machine's assign makes (the step without xstate)
 *   floor    a trivial xstate machine: one assign of a counter and one no-op action (xstate's least step)
 *   step     the conversation machine's POSTS step through SharedConversationMachine, no-op effects
 * Warm: a tight loop of steps (caches hold everything). Cold: one step timed after 8 MiB of memory was written and an
 * unrelated JSON round trip ran (L1 and L2 hold other data and code, as after the other side of a round trip).
 *
 * Bytes per step (`--alloc`): each subject's steps under V8's sampling heap profiler (a sample every 64 bytes,
 * collected objects kept), the sampled bytes over the steps: garbage counts as much as what is kept.
 *
 * Run: npm run build && node --expose-gc dist/perf/machine-step-bench.js [--rounds=7] [--alloc]
 * For instructions per step (perf/step-instructions.ts runs it under callgrind): `--only=<subject> --steps=N`
 * runs a warm-up and then N steps of one subject, untimed.
 */
import { Session } from 'node:inspector/promises';
import { assign, createActor, setup } from 'xstate';
import { createSystemClock } from '../actors/clock';
import { createInitialContext, type ConversationContext, type ConversationInput } from '../actors/conversation-context';
import type { ConversationEvent, PostFields } from '../actors/conversation-events';
import { acceptPosts } from '../actors/post-batch';
import { SharedConversationMachine, type ConversationEffects } from '../actors/shared-conversation-machine';
import { fmt, percentile } from './bench-utils';

const WARMUP_STEPS = 20_000;

const policy = {
  maxParticipants: 1000,
  humanContextSize: 20,
  cacheSize: 256,
  dedupWindow: 10_000,
  chainLimit: 3,
  multiModeWindowMs: 2000,
  multiModeMaxWaitMs: 10_000,
  singleModeTypingWindowMs: 1500,
};

function roomInput(): ConversationInput {
  const human = (id: string, role: 'owner' | 'member') =>
    ({ participant_id: id, participant_type: 'human', display_name: id, joined_at_sequence: 0, role }) as const;
  return {
    conversationId: 'room',
    settings: {},
    policy,
    lastSequenceId: 0,
    participants: [human('a', 'owner'), human('b', 'member')],
    recent: [],
  };
}

/** One step of a subject: `n` is the step's number (message ids must not repeat: a repeat is a duplicate). */
type Step = (n: number) => void;

const postOf = (n: number): PostFields[] => [{ message_id: `m${n}`, sender_id: n % 2 === 0 ? 'a' : 'b', content: `hello ${n}` }];

function reducerSubject(): Step {
  let ctx: ConversationContext = createInitialContext(roomInput());
  return (n) => {
    ctx = { ...ctx, ...acceptPosts(ctx, postOf(n), n) };
  };
}

function floorSubject(): Step {
  const machine = setup({
    types: { context: {} as { count: number }, events: {} as { type: 'TICK' } },
    actions: { count: assign(({ context }) => ({ count: context.count + 1 })), effect: () => undefined },
  }).createMachine({ context: { count: 0 }, initial: 'on', states: { on: { on: { TICK: { actions: ['count', 'effect'] } } } } });
  const actor = createActor(machine).start();
  const tick = { type: 'TICK' } as const;
  return () => actor.send(tick);
}

function stepSubject(): Step {
  const noop = (): void => undefined;
  const effects: ConversationEffects = {
    deliver: noop,
    persist: noop,
    acknowledge: noop,
    acknowledgeEach: noop,
    dispatchToAgents: noop,
    forwardTyping: noop,
  };
  const actor = new SharedConversationMachine().start(roomInput(), createSystemClock(), effects, (err) => {
    throw err;
  });
  return (n) => actor.send({ type: 'POSTS', requestId: n, receivedAt: n, posts: postOf(n) } satisfies ConversationEvent);
}

const SUBJECTS = { reducer: reducerSubject, floor: floorSubject, step: stepSubject } as const;
type SubjectName = keyof typeof SUBJECTS;

/** Writes 8 MiB (a cache line at a time) and runs unrelated code, so the next step starts with other data and code cached. */
class CacheEvictor {
  private readonly memory = new Float64Array((8 * 1024 * 1024) / 8);
  private readonly unrelated = { rows: Array.from({ length: 200 }, (_, i) => ({ id: i, name: `row ${i}`, tags: ['x', 'y'] })) };
  private sink = 0;

  evict(): void {
    for (let i = 0; i < this.memory.length; i += 8) this.memory[i] += 1;
    this.sink += (JSON.parse(JSON.stringify(this.unrelated)) as { rows: unknown[] }).rows.length;
  }
}

/** Nanoseconds per step over a loop of `steps`. */
function warmNs(step: Step, from: number, steps: number): number {
  const start = process.hrtime.bigint();
  for (let i = 0; i < steps; i++) step(from + i);
  return Number(process.hrtime.bigint() - start) / steps;
}

/** The median nanoseconds of `samples` single steps, each after the caches were evicted. */
function coldNs(step: Step, from: number, samples: number, evictor: CacheEvictor): number {
  const times: number[] = [];
  for (let i = 0; i < samples; i++) {
    evictor.evict();
    const start = process.hrtime.bigint();
    step(from + i);
    times.push(Number(process.hrtime.bigint() - start));
  }
  return percentile(times, 50);
}

function median(values: readonly number[]): number {
  return percentile(values, 50);
}

function runOnly(name: SubjectName, steps: number): void {
  const step = SUBJECTS[name]();
  for (let i = 0; i < WARMUP_STEPS; i++) step(i);
  for (let i = 0; i < steps; i++) step(WARMUP_STEPS + i);
}

function runAll(rounds: number): void {
  const names = Object.keys(SUBJECTS) as SubjectName[];
  const steps = Object.fromEntries(names.map((n) => [n, SUBJECTS[n]()])) as Record<SubjectName, Step>;
  const next = Object.fromEntries(names.map((n) => [n, 0])) as Record<SubjectName, number>;
  const warm = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<SubjectName, number[]>;
  const cold = Object.fromEntries(names.map((n) => [n, [] as number[]])) as Record<SubjectName, number[]>;
  const evictor = new CacheEvictor();
  for (const n of names) next[n] += (warmNs(steps[n], next[n], WARMUP_STEPS), WARMUP_STEPS);
  // Subjects interleaved round by round (order rotated), so a burst of load falls on all of them alike.
  for (let r = 0; r < rounds; r++) {
    for (let k = 0; k < names.length; k++) {
      const n = names[(r + k) % names.length];
      (globalThis as { gc?: () => void }).gc?.();
      warm[n].push(warmNs(steps[n], next[n], 20_000));
      next[n] += 20_000;
      cold[n].push(coldNs(steps[n], next[n], 150, evictor));
      next[n] += 150;
    }
  }
  // Warm: the fastest round, the one other jobs on the machine disturbed least (a 20,000-step loop is preempted
  // often on a loaded VM: medians of whole loops moved 2x). Cold: single steps, rarely preempted, so the median.
  const base = { warm: Math.min(...warm.reducer), cold: median(cold.reducer) };
  console.log(`${rounds} rounds; warm: the fastest round of 20,000 steps; cold: the median round's median of 150 evicted steps`);
  for (const n of names) {
    const w = Math.min(...warm[n]);
    const c = median(cold[n]);
    console.log(
      `${n.padEnd(8)} warm ${fmt(w / 1000)} µs (${fmt(w / base.warm)}x reducer)  cold ${fmt(c / 1000)} µs (${fmt(c / base.cold)}x reducer)` +
        `  rounds warm ${warm[n].map((x) => fmt(x / 1000)).join(' ')}`,
    );
  }
}

interface HeapProfileNode {
  selfSize: number;
  children: HeapProfileNode[];
}

function sampledBytes(node: HeapProfileNode): number {
  let bytes = node.selfSize;
  for (const child of node.children) bytes += sampledBytes(child);
  return bytes;
}

/** Bytes allocated per step by each subject, after its warm-up (see the header). */
async function bytesPerStep(steps: number): Promise<void> {
  const session = new Session();
  session.connect();
  for (const name of Object.keys(SUBJECTS) as SubjectName[]) {
    const step = SUBJECTS[name]();
    for (let i = 0; i < WARMUP_STEPS; i++) step(i);
    await session.post('HeapProfiler.startSampling', {
      samplingInterval: 64,
      includeObjectsCollectedByMajorGC: true,
      includeObjectsCollectedByMinorGC: true,
    } as never);
    for (let i = 0; i < steps; i++) step(WARMUP_STEPS + i);
    const { profile } = await session.post('HeapProfiler.stopSampling');
    console.log(`${name.padEnd(8)} ${Math.round(sampledBytes(profile.head as unknown as HeapProfileNode) / steps)} bytes per step`);
  }
  session.disconnect();
}

const arg = (name: string): string | undefined => process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
const only = arg('only');
if (only !== undefined) {
  if (!(only in SUBJECTS)) throw new Error(`--only: one of ${Object.keys(SUBJECTS).join(', ')}`);
  runOnly(only as SubjectName, Number(arg('steps') ?? 10_000));
} else if (process.argv.includes('--alloc')) void bytesPerStep(Number(arg('steps') ?? 20_000));
else runAll(Number(arg('rounds') ?? 7));
