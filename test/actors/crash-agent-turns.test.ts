import { createEchoAgent, type Agent, type AgentOutput, type ChatMessage, type ConversationOutput, type ManualClock } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { makeCrashingRuntime } from './crash-helpers';
import { collector, settle } from './runtime-helpers';

/**
 * What a machine crash leaves undone is done after the restart, once: the agent turns the crashed step had
 * planned but not started, and the human messages that were waiting for the input window.
 */

const WINDOW_MS = 2000; // chat.limits.multi_mode_window_ms (default)
const human = (id: string) => ({ participant_id: id, participant_type: 'human' as const });
const ai = (id: string) => ({ participant_id: id, participant_type: 'ai' as const });

/** The text answers `agentId` gave to the message `messageId` (each answer is one record here). */
const answersOf = (seen: readonly ChatMessage[], agentId: string, messageId: string) =>
  seen.filter((m) => m.sender_id === agentId && m.message_type === 'text' && m.metadata.in_reply_to === messageId).map((m) => m.content);
const startsOf = (seen: readonly ChatMessage[], agentId: string) =>
  seen.filter((m) => m.message_type === 'agent_job_started' && m.metadata.participant_id === agentId);
const ids = (records: readonly ChatMessage[]) => records.map((m) => m.sequence_id);

/** Resolves the returned promise's gate when `open` is called. */
function gate() {
  let open!: () => void;
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { opened, open };
}

/** A memory store whose conversation lookups (a restart's first read) wait while `held` is set. */
class SlowRestoreStore extends MemoryStore {
  held: Promise<void> | undefined;
  protected override async _getConversation(conversationId: string) {
    if (this.held) await this.held;
    return super._getConversation(conversationId);
  }
}

/** Answers in two pieces; the second only once `release` is called (an answer streaming over time). */
function createTwoPieceAgent(id: string) {
  const second = gate();
  const agent: Agent = {
    id,
    displayName: id,
    async *respond(turn): AsyncIterable<AgentOutput> {
      yield { content: `${turn.trigger.content} (1)`, final: false };
      await second.opened;
      yield { content: `${turn.trigger.content} (2)`, final: true };
    },
  };
  return { agent, release: second.open };
}

describe('agent turns a machine crash left undone', () => {
  it('a human post whose delivery crashed is answered by the agent after the restart, once', async () => {
    const { runtime, store, restarts, subscribeAroundFault } = await makeCrashingRuntime({ agents: [createEchoAgent()] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo')] });
    const { before: first, after: third } = await subscribeAroundFault(['alice', 'alice', 'alice'], (m) => m.content === 'hello?');

    const question = await runtime.post('c', { sender_id: 'alice', message_id: 'q1', content: 'hello?' });
    await settle();
    expect(restarts.count).toBe(1);
    expect(answersOf(first.messages, 'echo', 'q1')).toEqual(['echo: hello?']);
    expect(startsOf(first.messages, 'echo')).toHaveLength(1);
    // The answer comes after the question, in the one stream both connections see.
    expect(ids(third.messages)).toEqual(ids(first.messages.filter((m) => m.sequence_id >= third.messages[0].sequence_id)));
    const next = await runtime.post('c', { sender_id: 'alice', message_id: 'q2', content: 'thanks' });
    await next.whenPersisted;
    await settle();
    const journal = await store.readMessages('c', 0, 100);
    expect(answersOf(journal, 'echo', 'q1')).toEqual(['echo: hello?']);
    expect(journal.find((m) => m.metadata.in_reply_to === 'q1')!.sequence_id).toBeGreaterThan(question.sequence_id);
    expect(restarts.count).toBe(1);
    await runtime.close();
  });

  it('an answer streaming when the machine crashed: its pieces sent during the rebuild are sequenced after it, none lost', async () => {
    const store = new SlowRestoreStore();
    const slow = createTwoPieceAgent('slow');
    const { runtime, restarts, subscribeAroundFault } = await makeCrashingRuntime({ agents: [slow.agent], store });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('slow')] });
    const { before: alice } = await subscribeAroundFault(['alice', 'alice', 'alice'], (m) => m.content === 'crash here');
    await runtime.post('c', { sender_id: 'alice', message_id: 'q1', content: 'question' });
    await settle();
    expect(answersOf(alice.messages, 'slow', 'q1')).toEqual(['question (1)']);

    // The crash, then the answer's last piece while the machine is being rebuilt.
    const restore = gate();
    store.held = restore.opened;
    await runtime.post('c', { sender_id: 'alice', message_id: 'q2', content: 'crash here' });
    expect(restarts.count).toBe(1);
    slow.release();
    await settle();
    store.held = undefined;
    restore.open();
    await settle();
    const answer = alice.messages.filter((m) => m.metadata.in_reply_to === 'q1');
    expect(answer.map((m) => [m.content, m.metadata.complete])).toEqual([
      ['question (1)', false],
      ['question (2)', true],
    ]);
    await runtime.close();
  });
});

describe('human messages waiting for the input window when the machine crashed', () => {
  const echoes = (seen: readonly ChatMessage[]) =>
    seen.filter((m) => m.sender_id === 'echo' && m.message_type === 'text').map((m) => m.content);

  /** `inMs` later the burst has the answer `expected`, and no other answer however long one waits. */
  async function expectAnsweredOnce(clock: ManualClock, seen: { messages: ChatMessage[] }, expected: string, inMs = WINDOW_MS) {
    clock.advance(inMs);
    await settle();
    expect(echoes(seen.messages)).toEqual([expected]);
    clock.advance(3 * WINDOW_MS);
    await settle();
    expect(echoes(seen.messages)).toEqual([expected]);
  }

  it('a waiting post whose own delivery crashed: the burst is answered one window after the restart, once', async () => {
    const { runtime, clock, restarts, subscribeAroundFault } = await makeCrashingRuntime({ agents: [createEchoAgent()] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo'), human('bob')] });
    const { before: alice } = await subscribeAroundFault(['alice', 'bob', 'alice'], (m) => m.content === 'two');
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' });
    clock.advance(WINDOW_MS / 2);
    await expect(runtime.post('c', { sender_id: 'bob', message_id: 'b1', content: 'two' })).resolves.toMatchObject({ duplicate: false });
    await settle();
    expect(restarts.count).toBe(1);

    // The restarted machine collects the burst again, with a fresh window.
    clock.advance(WINDOW_MS - 1);
    await settle();
    expect(echoes(alice.messages)).toEqual([]);
    await expectAnsweredOnce(clock, alice, 'echo: one\ntwo', 1);
    await runtime.close();
  });

  it('a burst waiting while another kind of step crashed (a join): still answered after the restart, once', async () => {
    const { runtime, clock, restarts, subscribeAroundFault } = await makeCrashingRuntime({ agents: [createEchoAgent()] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo'), human('bob')] });
    const { before: alice } = await subscribeAroundFault(['alice', 'bob', 'alice'], (m) => m.message_type === 'join');
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' });
    await runtime.join('c', human('carol'));
    await settle();
    expect(restarts.count).toBe(1);
    // A message after the restart joins the same burst.
    await runtime.post('c', { sender_id: 'carol', message_id: 'c1', content: 'three' });

    await expectAnsweredOnce(clock, alice, 'echo: one\nthree');
    await runtime.close();
  });

  it('a burst waiting while a step that sequences nothing crashed (a typing indicator): answered after the restart, once', async () => {
    const { runtime, clock, restarts, faultyOnOutput } = await makeCrashingRuntime({ agents: [createEchoAgent()] });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo'), human('bob')] });
    const alice = collector();
    await runtime.subscribe('c', 'alice', alice.listener);
    // alice's second connection fails on bob's typing indicator, which nothing sequences: the step is not kept.
    await runtime.subscribe(
      'c',
      'alice',
      faultyOnOutput((o: ConversationOutput) => o.type === 'typing'),
    );
    await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' });
    runtime.setTyping('c', 'bob', true);
    await settle();
    expect(restarts.count).toBe(1);

    await expectAnsweredOnce(clock, alice, 'echo: one');
    await runtime.close();
  });

  it('a conversation restarting after a crash is not passivated meanwhile: the burst its crashed step left is still answered', async () => {
    /** A store whose conversation lookup (the first read of a restart) can be held. */
    class SlowRestoreStore extends MemoryStore {
      private gate: Promise<void> | undefined;
      private open_: (() => void) | undefined;
      hold(): void {
        this.gate = new Promise((resolve) => (this.open_ = resolve));
      }
      release(): void {
        this.open_?.();
        this.gate = undefined;
      }
      protected override async _getConversation(id: string) {
        if (this.gate) await this.gate;
        return super._getConversation(id);
      }
    }
    const store = new SlowRestoreStore();
    const { runtime, clock, restarts, failNextDelivery } = await makeCrashingRuntime({
      agents: [createEchoAgent()],
      store,
      idleTimeoutS: 1,
    });
    await runtime.createConversation({ conversation_id: 'c', created_by: 'alice', participants: [ai('echo'), human('bob')] });
    // Nobody is connected: only the idle timer decides whether the conversation stays live. The post's hand-over
    // crashes (its step is kept) while the restart's first read is held.
    store.hold();
    failNextDelivery();
    await (
      await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'one' })
    ).whenPersisted;
    await settle();
    expect(restarts.count).toBe(1);
    clock.advance(1000);
    await settle();
    expect(runtime.health().conversations).toBe(1);

    store.release();
    await settle();
    // The restarted machine collects the waiting burst again, with a fresh window.
    clock.advance(WINDOW_MS);
    await settle();
    const answers = (await store.readMessages('c', 0, 100)).filter((m) => m.sender_id === 'echo' && m.message_type !== 'join');
    expect(answers.map((m) => m.content)).toEqual(['echo: one']);
    await runtime.close();
  });
});
