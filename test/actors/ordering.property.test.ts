import fc from 'fast-check';
import { isChatError, type ChatMessage } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { makeRuntime, collector, settle, NextTurnReads } from './runtime-helpers';
import { resumedSubscriber } from './resumed-subscriber';

/**
 * 60 runs by default; hunt longer with ORDERING_RUNS=5000, and rerun a failure with the seed and path fast-check
 * prints: ORDERING_SEED=<seed> ORDERING_PATH=<path>.
 */
const RUNS = Number(process.env.ORDERING_RUNS ?? 60);
const REPLAY = process.env.ORDERING_SEED ? { seed: Number(process.env.ORDERING_SEED), path: process.env.ORDERING_PATH } : {};

const HUMANS = ['h0', 'h1', 'h2', 'h3'];
type Op =
  | { kind: 'join' | 'leave' | 'connect'; who: number }
  | { kind: 'post'; who: number; id: number }
  /**
   * Subscribes resuming after `after` (past the end: from the end; with `history`, at most that many records), not
   * awaited: later ops race its replay.
   */
  | { kind: 'resume'; who: number; after: number; history: number | undefined; paged: boolean }
  | { kind: 'disconnect'; index: number }
  | { kind: 'advance' }
  | { kind: 'settle' }
  /** runtime.close() (every connection gets `closed: shutdown`), then a new runtime on the same store. */
  | { kind: 'restart' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), who: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('connect' as const), who: fc.integer({ min: 0, max: 3 }) }),
  {
    arbitrary: fc.record({ kind: fc.constant('post' as const), who: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 4 }) }),
    weight: 4,
  },
  {
    arbitrary: fc.record({
      kind: fc.constant('resume' as const),
      who: fc.integer({ min: 0, max: 3 }),
      after: fc.nat(12),
      history: fc.option(fc.integer({ min: 1, max: 6 }), { nil: undefined }),
      paged: fc.boolean(),
    }),
    weight: 2,
  },
  fc.record({ kind: fc.constant('disconnect' as const), index: fc.nat(10) }),
  fc.record({ kind: fc.constant('advance' as const) }),
  fc.record({ kind: fc.constant('settle' as const) }),
  fc.record({ kind: fc.constant('restart' as const) }),
);

/**
 * Journal reads a turn late and a small cache make most replays read the store while later ops run; an idle timeout
 * of 1 s passivates the conversation at each `advance` that finds nobody subscribed.
 */
const setupArb = fc.record({ slowReads: fc.boolean(), cache: fc.constantFrom(2, 100), idleS: fc.constantFrom(300, 1) });

interface Watched {
  readonly who: string;
  readonly c: ReturnType<typeof collector>;
  /** The last id before its stream (the resume point, or the conversation's end at a live subscribe), once subscribed. */
  start?: number;
  /** The conversation's end at subscribe: a leave record of the member after it ends the stream (a replay's older ones do not). */
  liveAfter?: number;
  closedBySubscriber: boolean;
  readonly close: () => void;
}

describe('ordering invariants (property)', () => {
  it(
    'every connection sees one gap-free, duplicate-free slice of the same total order, up to the end or its own leave record; a retried message_id never gets two sequence ids',
    async () => {
      await fc.assert(
        fc.asyncProperty(setupArb, fc.array(opArb, { minLength: 1, maxLength: 40 }), async (setup, ops) => {
          const store = setup.slowReads ? new NextTurnReads() : new MemoryStore();
          const config = { chat: { cache: { recent_messages: setup.cache }, supervision: { idle_timeout_s: setup.idleS } } };
          let { runtime, clock } = await makeRuntime({ store, config });
          /** Runtimes started so far: a subscribe that a restart overtook may be refused CHAT_ERR_CLOSED. */
          let restarts = 0;
          await runtime.createConversation({
            conversation_id: 'c',
            created_by: 'h0',
            participants: [{ participant_id: 'echo', participant_type: 'ai' }],
          });
          const connections: Watched[] = [];
          const replays: Array<Promise<unknown>> = [];
          const seqByMessage = new Map<string, number>();
          // Time passes between turns, never inside one: a subscribe between two of its microtasks is not yet
          // subscribed, and an idle timer that fired there would stop the conversation under it (no real clock can).
          const passTime = async () => {
            await settle(1);
            clock.advance(2500);
          };
          const tolerate = (e: unknown) => {
            if (!isChatError(e, 'CHAT_ERR_NOT_PARTICIPANT')) throw e;
          };
          for (const op of ops) {
            const who = 'who' in op ? HUMANS[op.who] : '';
            if (op.kind === 'join') await runtime.join('c', { participant_id: who, participant_type: 'human' });
            if (op.kind === 'leave') await runtime.leave('c', who).catch(tolerate);
            if (op.kind === 'connect') {
              const c = collector();
              const sub = await runtime.subscribe('c', who, c.listener).catch(tolerate);
              if (sub)
                connections.push({
                  who,
                  c,
                  start: sub.lastSequenceId,
                  liveAfter: sub.lastSequenceId,
                  closedBySubscriber: false,
                  close: sub.close,
                });
            }
            if (op.kind === 'resume') {
              const startedIn = restarts;
              const resumed = resumedSubscriber(runtime, 'c', who, op, op.paged ? 'paged' : 'pushed');
              const watched: Watched = { who, c: resumed.c, closedBySubscriber: false, close: resumed.close };
              connections.push(watched);
              replays.push(resumed.replayed);
              void resumed.subscription.then(
                (sub) => {
                  const last = sub.lastSequenceId;
                  watched.start = Math.min(Math.max(op.after, op.history === undefined ? 0 : last - op.history), last);
                  watched.liveAfter = sub.lastSequenceId;
                },
                (e: unknown) => {
                  if (!(startedIn !== restarts && isChatError(e, 'CHAT_ERR_CLOSED'))) tolerate(e);
                  watched.closedBySubscriber = true;
                },
              );
            }
            if (op.kind === 'disconnect' && connections.length > 0) {
              const watched = connections[op.index % connections.length];
              watched.closedBySubscriber = true;
              watched.close();
            }
            if (op.kind === 'post') {
              const key = `${who}/m${op.id}`;
              const r = await runtime.post('c', { sender_id: who, message_id: `m${op.id}`, content: key }).catch(tolerate);
              if (r) {
                if (seqByMessage.has(key)) expect(r.sequence_id).toBe(seqByMessage.get(key));
                seqByMessage.set(key, r.sequence_id);
              }
            }
            if (op.kind === 'advance') await passTime();
            if (op.kind === 'settle') await settle(5);
            if (op.kind === 'restart') {
              restarts++;
              await runtime.close();
              ({ runtime, clock } = await makeRuntime({ store, config }));
            }
          }
          await passTime();
          await Promise.all(replays);
          await settle();
          const journal = await store.readMessages('c', 0, 10_000);
          expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
          const ids = journal.filter((m) => m.sender_type !== 'system').map((m) => `${m.sender_id}/${m.message_id}`);
          expect(new Set(ids).size).toBe(ids.length);
          for (const { who, c, start = 0, liveAfter = 0, closedBySubscriber } of connections) {
            const seen: ChatMessage[] = c.messages;
            if (seen.length > 0) expect(seen[0].sequence_id).toBe(start + 1);
            for (let i = 1; i < seen.length; i++) expect(seen[i].sequence_id).toBe(seen[i - 1].sequence_id + 1);
            for (const m of seen) expect(m).toEqual(journal[m.sequence_id - 1]);
            // nothing after the participant's own (live) leave record
            const leaveAt = seen.findIndex((m) => m.message_type === 'leave' && m.sender_id === who && m.sequence_id > liveAfter);
            if (leaveAt >= 0) expect(seen.length).toBe(leaveAt + 1);
            if (closedBySubscriber) continue;
            // A connection its subscriber kept got everything up to the end, or up to its own leave record, then `closed`;
            // a shutdown may end it anywhere.
            const closed = c.outputs.find((o) => o.type === 'closed');
            if (closed?.type === 'closed' && closed.reason === 'shutdown') continue;
            if (closed) expect([closed, seen.at(-1)]).toMatchObject([{ reason: 'removed' }, { message_type: 'leave', sender_id: who }]);
            else expect(seen.at(-1)?.sequence_id ?? start).toBe(journal.length);
          }
          await runtime.close();
        }),
        { numRuns: RUNS, ...REPLAY },
      );
    },
    Math.max(30_000, RUNS * 500),
  );
});
