import fs from 'node:fs';
import path from 'node:path';
import { createChatRuntime, type Agent, type ChatMessage, type ConversationOutput } from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { createMachineRerun } from '../../bin/replay/machine-rerun';
import { SqliteStore } from '../../storage-providers';
import { HeldSqliteStore, makeTmpDir, outputCollector, readAll, within } from './recovery-helpers';

/**
 * An AI answer streaming when the server dies (SIGKILL, simulated as sequence-reuse.test.ts does: the first
 * runtime's journal writes are held forever) or stops: its "is answering" record and pieces are stored, the
 * record that would end the job never is. The next runtime to load the conversation ends the job with one
 * `agent_job_cancelled` (reason `interrupted`), after the `lost` placeholders, and does not ask the agent again;
 * a later restart finds the job ended and adds nothing (docs/protocol.md, Agent jobs).
 */

const CONFIG = { observability: { log_level: 'silent' as const }, chat: { ownership: { instance_id: 'server-1' } } };

/** An agent that answers in two pieces, neither marked final, then waits until its job is aborted. */
function streamingAgent() {
  const asked: string[] = [];
  const agent: Agent = {
    id: 'nlweb',
    displayName: 'NLWeb',
    wantsTurn: (m) => m.sender_type === 'human',
    async *respond(turn, signal) {
      asked.push(turn.trigger.message_id);
      yield { content: 'first part' };
      yield { content: 'second part' };
      await new Promise<void>((resolve) => {
        if (signal.aborted) resolve();
        signal.addEventListener('abort', () => resolve(), { once: true });
      });
    },
  };
  return { agent, asked };
}

/** Records that end job `jobId` (docs/protocol.md: a complete AI piece, or a finished / failed / cancelled record). */
function endsOf(journal: readonly ChatMessage[], jobId: string): ChatMessage[] {
  const ends = new Set(['agent_job_finished', 'agent_job_failed', 'agent_job_cancelled']);
  return journal.filter(
    (m) => m.metadata.job_id === jobId && ((m.sender_type === 'ai' && m.metadata.complete === true) || ends.has(m.message_type)),
  );
}

const persistedUpTo = (seq: number) => (o: ConversationOutput) => o.type === 'persisted' && o.up_to_sequence_id >= seq;

describe('an AI answer cut off by a crash or a stop', () => {
  let dir: string;
  let file: string;
  const runtimes: ConversationRegistryRuntime[] = [];
  const stores: SqliteStore[] = [];

  beforeEach(() => {
    dir = makeTmpDir();
    file = path.join(dir, 'chat.db');
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close({ deadlineMs: 50 });
    for (const s of stores.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function start<S extends SqliteStore>(store: S) {
    await store.open();
    stores.push(store);
    const nlweb = streamingAgent();
    const runtime = await createChatRuntime({ config: CONFIG, storage: store, agents: [nlweb.agent] });
    runtimes.push(runtime);
    return { store, runtime, asked: nlweb.asked };
  }

  /** Alice asks; the answer's two pieces are delivered and stored; the job is still running. Returns its id. */
  async function askAndStreamHalf(runtime: ConversationRegistryRuntime): Promise<string> {
    await runtime.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'nlweb', participant_type: 'ai', agent_id: 'nlweb' }],
    });
    const alice = outputCollector();
    await runtime.subscribe('c', 'alice', alice.listener);
    await runtime.post('c', { sender_id: 'alice', message_id: 'q1', content: 'vegan places near the station?' });
    const second = await within(
      alice.next((o) => o.type === 'message' && o.message.content === 'second part'),
      10_000,
      'the second piece',
    );
    const piece = (second as Extract<ConversationOutput, { type: 'message' }>).message;
    await within(alice.next(persistedUpTo(piece.sequence_id)), 10_000, 'the pieces stored');
    return String(piece.metadata.job_id);
  }

  /** A runtime on the same file loads the conversation (alice subscribes) and stores what it wrote at load. */
  async function restart() {
    const next = await start(new SqliteStore({ path: file }));
    const alice = outputCollector();
    await next.runtime.subscribe('c', 'alice', alice.listener, { afterSequenceId: 0 });
    await within(next.runtime.close({ deadlineMs: 5_000 }), 10_000, 'the restarted runtime stored what it wrote');
    const journal = await readAll(next.store, 'c');
    return { ...next, journal };
  }

  function expectCleanReplay(journal: readonly ChatMessage[]): void {
    const checker = createInvariantChecker({ conversationId: 'c' });
    const found = [...journal.flatMap((m) => checker.accept(m)), ...checker.finish()];
    expect(found).toEqual([]);
    expect(checker.notes()).toEqual([]);
    // The end re-runs through the machine as the AGENT_CANCELLED it was (replay --rerun).
    const rerun = createMachineRerun({ conversationId: 'c' });
    expect([...journal.flatMap((m) => rerun.accept(m)), ...rerun.finish()]).toEqual([]);
  }

  it('killed mid-answer: the next start ends the job once, after the lost ids, without asking again', async () => {
    const first = await start(new HeldSqliteStore({ path: file }));
    const jobId = await askAndStreamHalf(first.runtime);
    // The process dies: nothing it does from here on reaches the journal.
    first.store.held = true;
    const before = await readAll(first.store, 'c');
    expect(endsOf(before, jobId)).toEqual([]);

    const second = await restart();
    const ends = endsOf(second.journal, jobId);
    expect(ends).toHaveLength(1);
    expect(ends[0]).toMatchObject({
      sender_type: 'system',
      message_type: 'agent_job_cancelled',
      content: 'NLWeb stopped answering (interrupted)',
      metadata: { job_id: jobId, participant_id: 'nlweb', reason: 'interrupted' },
    });
    const lost = second.journal.filter((m) => m.message_type === 'lost');
    expect(lost.length).toBeGreaterThan(0);
    // The lost ids are the ones reserved before the crash: the end takes a new id after them.
    expect(ends[0].sequence_id).toBeGreaterThan(Math.max(...lost.map((m) => m.sequence_id)));
    expect(second.asked).toEqual([]);
    expectCleanReplay(second.journal);

    const third = await restart();
    expect(endsOf(third.journal, jobId)).toHaveLength(1);
    expect(third.journal).toHaveLength(second.journal.length);
    expect(third.asked).toEqual([]);
  });

  it('stopped mid-answer (close): the next start ends the job once; a second restart adds nothing', async () => {
    const first = await start(new SqliteStore({ path: file }));
    const jobId = await askAndStreamHalf(first.runtime);
    await first.runtime.close({ deadlineMs: 5_000 });
    // The stop cancels the job, but its end is not stored (the conversation stops before the job unwinds).

    const second = await restart();
    expect(endsOf(second.journal, jobId)).toHaveLength(1);
    expect(second.journal.filter((m) => m.message_type === 'lost')).toEqual([]);
    expect(second.asked).toEqual([]);
    expectCleanReplay(second.journal);

    const third = await restart();
    expect(third.journal).toHaveLength(second.journal.length);
  });
});
