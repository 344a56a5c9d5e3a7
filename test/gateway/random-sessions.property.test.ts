/**
 * Model-based, randomized end-to-end sessions over real sockets: 3-4 humans (one or two tabs each) in
 * one or two conversations post, re-send message ids, drop and resume (from their last id or an older
 * one, with or without a `history` bound), sync mid-stream, leave and re-join, post over HTTP, edit and
 * delete their messages (the owner redacts), mark read (frames, HTTP, read_batches), send invalid frames
 * and typing, with many commands in flight at once; replay pages are small (chat.cache.replay_page_records
 * 2 or 5), so replays take several. Then every stream, ack, tab view, read roster and the journal are
 * checked against each other (session-model.ts, session-socket-check.ts, session-ledger.ts,
 * session-changes.ts, session-tab-view.ts, session-read-roster.ts). A failure prints fast-check's seed
 * and path; rerun it with SESSION_SEED=<seed> SESSION_PATH=<path> (the same commands; the timing of real
 * sockets differs from run to run, so a race may take a few reruns). Longer hunts: SESSION_RUNS=600
 * SESSION_TIME_LIMIT_MS=600000. SESSION_TRACE=1 adds what each socket named in a violation saw.
 */
import fc from 'fast-check';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { closeAll, invalidFrames, startHarness } from './harness';
import { NextTurnReads } from './next-turn-reads';
import { describeCommand, sessionCommandArb, sessionSetupArb, type SessionCommand, type SessionSetup } from './session-commands';
import { SessionModel } from './session-model';

/** 12: sessions now also edit, mark read and reconnect every tab at the end, so 20 took twice the old CI time. */
const RUNS = Number(process.env.SESSION_RUNS ?? 12);
/**
 * CI runs one fixed seed, so that what lands does not depend on which sessions a run happened to draw; a run outside
 * CI draws new ones. Seed 382594909 (path "13:0:0:0:0:0" + ":1" x 15 + ":0" x 68) failed every run until 20e3ad9: a
 * sync then a leave over one socket cut the sync's replay (now test/gateway/sync-then-leave.test.ts).
 */
const CI_SEED = 20261207;
/** Shrinking replays whole sessions: it stops at this limit, in time for jest to print the counterexample so far. */
const TIME_LIMIT_MS = Number(process.env.SESSION_TIME_LIMIT_MS ?? 90_000);

/** NextTurnReads whose journal writes finish a turn later too: acks go persisted: false first, replays wait. */
class NextTurnStore extends NextTurnReads {
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[]): Promise<void> {
    await new Promise((resolve) => setImmediate(resolve));
    return super._appendMessages(conversationId, messages);
  }
}

afterEach(closeAll);

async function runSession(setup: SessionSetup, commands: readonly SessionCommand[], stats: Map<string, number>): Promise<void> {
  const store = setup.slowStore ? new NextTurnStore() : new MemoryStore();
  const h = await startHarness(
    {
      chat: {
        limits: { rate_limit_burst: 100_000, rate_limit_per_second: 100_000 },
        cache: { recent_messages: setup.cacheSize, replay_page_records: setup.pageRecords },
        read_positions: { announce_interval_ms: setup.announceMs },
        supervision: { idle_timeout_s: setup.idleTimeoutS },
      },
    },
    { store },
  );
  try {
    const model = new SessionModel(h, setup);
    await model.start();
    for (const command of commands) await model.run(command);
    const problems = [...(await model.quiesce()), ...invalidFrames()];
    for (const [k, n] of model.stats) stats.set(k, (stats.get(k) ?? 0) + n);
    if (problems.length > 0) {
      throw new Error(`${problems.length} violation(s):\n${problems.join('\n')}\ncommands:\n${commands.map(describeCommand).join('\n')}`);
    }
  } finally {
    await closeAll();
  }
}

test(
  'random chat sessions over real sockets: gap-free resumes, one record per message id, every ack matches the journal',
  async () => {
    const started = Date.now();
    let commands = 0;
    const stats = new Map<string, number>();
    await fc.assert(
      fc.asyncProperty(sessionSetupArb, fc.array(sessionCommandArb, { minLength: 20, maxLength: 60 }), async (setup, cmds) => {
        commands += cmds.length;
        await runSession(setup, cmds, stats);
      }),
      {
        numRuns: RUNS,
        ...(process.env.SESSION_SEED
          ? { seed: Number(process.env.SESSION_SEED), path: process.env.SESSION_PATH }
          : process.env.CI
            ? { seed: CI_SEED }
            : {}),
        interruptAfterTimeLimit: TIME_LIMIT_MS,
        markInterruptAsFailure: true,
      },
    );
    const exercised = [...stats].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k} ${n}`);
    console.log(`random sessions: ${RUNS} runs, ${commands} commands, ${Date.now() - started} ms\n${exercised.join(', ')}`);
  },
  TIME_LIMIT_MS + 30_000,
);
