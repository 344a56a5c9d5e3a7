import { createChatRuntime, createManualClock, type Agent, type ManualClock } from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import type { ChatStore } from '../../storage-providers';
import { RedisStore } from '../../storage-providers/redis-store';
import { describeWithPg, pgReachableSync } from '../storage/pg-helpers';
import { REDIS_URL, deletePrefix, describeWithRedis, redisReachableSync, uniquePrefix } from '../storage/redis-helpers';
import { postgresFixture, readAll, sqliteFixture, within } from './recovery-helpers';

/**
 * A multi-mode post waits for the input window before the agents are asked. A process killed (kill -9) while it
 * waits used to leave nothing saying the agents were never asked, so the next load never asked them: the post went
 * unanswered for good. A crash is simulated as the other recovery tests do: the first runtime is abandoned without
 * close() (its manual clock never moves again, so its window never ends) and a second one opens the same store. The
 * agents are asked once per post: after the crash, not again after a passivation and reload, not again after a
 * second crash once they answered or declined (docs/conversations.md, Durability of the input window).
 */

const WINDOW_MS = 2000;
const IDLE_S = 30;
const CONFIG = {
  observability: { log_level: 'silent' as const },
  chat: {
    ownership: { instance_id: 'server-1' },
    supervision: { idle_timeout_s: IDLE_S },
    input: { multi_mode_window_ms: WINDOW_MS },
  },
};

/** What the agent was offered (wantsTurn: every offer of a human post) and the bursts it answered. */
interface AgentLog {
  readonly offered: string[];
  readonly answered: string[][];
}

/** An agent that takes (`answers`) or declines every human post, noting each offer. */
function noteTakingAgent(answers: boolean): { agent: Agent; log: AgentLog } {
  const log: AgentLog = { offered: [], answered: [] };
  const agent: Agent = {
    id: 'nlweb',
    displayName: 'NLWeb',
    wantsTurn: (m) => {
      if (m.sender_type !== 'human') return false;
      log.offered.push(m.message_id);
      return answers;
    },
    async *respond(turn) {
      log.answered.push(turn.burst.map((m) => m.message_id));
      yield { content: `answer to ${turn.trigger.message_id}`, final: true };
    },
  };
  return { agent, log };
}

/** Lets promise chains and real store I/O run (a bounded real-time wait for a condition). */
async function until(condition: () => boolean | Promise<boolean>, what: string, ms = 10_000): Promise<void> {
  const check = async () => {
    while (!(await condition())) await new Promise((resolve) => setTimeout(resolve, 5));
  };
  await within(check(), ms, what);
}

/** Real I/O a step may have started (a store write), given time to land. */
const settle = () => new Promise((resolve) => setTimeout(resolve, 50));

/** One storage location opened anew by each process (recovery-helpers' fixtures, and Redis on a prefix of its own). */
interface Location {
  open(): Promise<ChatStore>;
  dispose(): Promise<void>;
}

function redisLocation(): Location {
  const keyPrefix = uniquePrefix();
  return {
    async open() {
      const store = new RedisStore({ url: REDIS_URL, keyPrefix });
      await store.open();
      return store;
    },
    dispose: () => deletePrefix(keyPrefix),
  };
}

function suite(name: string, makeFixture: () => Location) {
  describe(`${name}: a post waiting for the input window when the process dies`, () => {
    let fixture: Location;
    const stores: ChatStore[] = [];
    /** Runtimes "killed": never closed by the test; afterEach frees them, advancing their clocks past any deadline. */
    const crashed: Array<{ runtime: ConversationRegistryRuntime; clock: ManualClock }> = [];
    const running: ConversationRegistryRuntime[] = [];

    beforeEach(() => {
      fixture = makeFixture();
    });
    afterEach(async () => {
      for (const r of running.splice(0)) await r.close({ deadlineMs: 50 });
      for (const { runtime, clock } of crashed.splice(0)) {
        let closed = false;
        const closing = runtime.close({ deadlineMs: 50 }).finally(() => (closed = true));
        for (let i = 0; i < 100 && !closed; i++) {
          clock.advance(100);
          await settle();
        }
        await closing;
      }
      for (const s of stores.splice(0)) await s.close();
      await fixture.dispose();
    });

    /** A runtime on a new store instance at the fixture's location (a process starting). */
    async function start(answers: boolean) {
      const store = await fixture.open();
      stores.push(store);
      const clock = createManualClock();
      const { agent, log } = noteTakingAgent(answers);
      const runtime = await createChatRuntime({ config: CONFIG, storage: store, agents: [agent], clock });
      running.push(runtime);
      return { runtime, clock, store, log };
    }

    function kill(process: { runtime: ConversationRegistryRuntime; clock: ManualClock }): void {
      running.splice(running.indexOf(process.runtime), 1);
      crashed.push(process);
    }

    /** Loads conversation 'c' (a read), lets its window run out, and gives the offer's writes time to land. */
    async function loadAndWaitWindow(p: { runtime: ConversationRegistryRuntime; clock: ManualClock }) {
      await p.runtime.getConversation('c');
      await settle();
      p.clock.advance(WINDOW_MS);
      await settle();
    }

    /** kill -9 of `p`, then a new process on the same store loads 'c' and lets its window run out. */
    async function crashAndRestart(p: { runtime: ConversationRegistryRuntime; clock: ManualClock }, answers: boolean) {
      kill(p);
      const next = await start(answers);
      await loadAndWaitWindow(next);
      return next;
    }

    /** The conversation unloaded as idle (passivation), then read again and its window let run out. */
    async function passivateAndReload(p: { runtime: ConversationRegistryRuntime; clock: ManualClock }) {
      p.clock.advance(IDLE_S * 1000);
      await settle();
      expect(p.runtime.health().conversations).toBe(0);
      await loadAndWaitWindow(p);
    }

    /** Alice, bob and the agent (multi mode); alice's `q1` and bob's `q2` posted and stored, the window running. */
    async function postBurst(p: Awaited<ReturnType<typeof start>>) {
      await p.runtime.createConversation({
        conversation_id: 'c',
        created_by: 'alice',
        participants: [
          { participant_id: 'bob', participant_type: 'human' },
          { participant_id: 'nlweb', participant_type: 'ai', agent_id: 'nlweb' },
        ],
      });
      expect((await p.runtime.getConversation('c')).mode).toBe('multi');
      const q1 = await p.runtime.post('c', { sender_id: 'alice', message_id: 'q1', content: 'lunch?' });
      p.clock.advance(500);
      const q2 = await p.runtime.post('c', { sender_id: 'bob', message_id: 'q2', content: 'somewhere vegan' });
      await within(q1.whenPersisted, 10_000, 'q1 stored');
      await within(q2.whenPersisted, 10_000, 'q2 stored');
    }

    it('killed while the burst waits: the next load asks the agent once; a passivation and a second crash do not ask again', async () => {
      const first = await start(true);
      await postBurst(first);
      expect(first.log.offered).toEqual([]);
      const second = await crashAndRestart(first, true);
      expect(second.log.offered).toEqual(['q2']);
      expect(second.log.answered).toEqual([['q1', 'q2']]);
      await until(async () => (await readAll(second.store, 'c')).some((m) => m.content === 'answer to q2'), 'the answer stored');

      // A passivation and a reload (the conversation unloaded as idle, then read again) does not ask again.
      await passivateAndReload(second);
      expect(second.log.offered).toEqual(['q2']);

      // Nor does a second crash, now that the agent answered.
      const third = await crashAndRestart(second, true);
      expect(third.log.offered).toEqual([]);
      const journal = await readAll(third.store, 'c');
      const answers = journal.filter((m) => m.sender_id === 'nlweb' && m.sender_type === 'ai');
      expect(answers.map((m) => m.content)).toEqual(['answer to q2']);
      // The journal the crash and the late offer left is one the replay tools take as it is.
      const checker = createInvariantChecker({ conversationId: 'c' });
      expect([...journal.flatMap((m) => checker.accept(m)), ...checker.finish()]).toEqual([]);
      const rerun = createMachineRerun({ conversationId: 'c' });
      expect([...journal.flatMap((m) => rerun.accept(m)), ...rerun.finish()]).toEqual([]);
    });

    it('a burst the agent declined before the crash is not offered again; one posted after the load is offered once', async () => {
      const first = await start(false);
      await postBurst(first);
      first.clock.advance(WINDOW_MS);
      await settle();
      expect(first.log.offered).toEqual(['q2']);
      const second = await crashAndRestart(first, false);
      expect(second.log.offered).toEqual([]);
      // Later posts still wait and are offered as usual, once.
      const q3 = await second.runtime.post('c', { sender_id: 'alice', message_id: 'q3', content: 'anyone?' });
      await within(q3.whenPersisted, 10_000, 'q3 stored');
      second.clock.advance(WINDOW_MS);
      await settle();
      expect(second.log.offered).toEqual(['q3']);
      // A passivation and a reload do not offer it again: declining wrote no record, the offer mark says it.
      await passivateAndReload(second);
      expect(second.log.offered).toEqual(['q3']);
      const third = await crashAndRestart(second, false);
      expect(third.log.offered).toEqual([]);
    });

    it('a burst answered before the crash is not asked again', async () => {
      const first = await start(true);
      await postBurst(first);
      first.clock.advance(WINDOW_MS);
      await until(async () => (await readAll(first.store, 'c')).some((m) => m.content === 'answer to q2'), 'the answer stored');
      expect(first.log.answered).toEqual([['q1', 'q2']]);
      const second = await crashAndRestart(first, true);
      expect(second.log.offered).toEqual([]);
    });

    it('a waiting burst cut by a clean stop (close) is asked once by the next start', async () => {
      const first = await start(true);
      await postBurst(first);
      await first.runtime.close({ deadlineMs: 5_000 });
      running.splice(running.indexOf(first.runtime), 1);
      expect(first.log.offered).toEqual([]);

      const second = await start(true);
      await loadAndWaitWindow(second);
      expect(second.log.offered).toEqual(['q2']);
    });
  });
}

suite('sqlite', sqliteFixture);
describeWithPg(pgReachableSync())('postgres', () => suite('postgres', postgresFixture));
describeWithRedis(redisReachableSync())('redis', () => suite('redis', redisLocation));
