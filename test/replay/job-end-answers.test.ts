import fs from 'node:fs';
import path from 'node:path';
import { createChatRuntime, createCounterIds, createManualClock, type Agent } from '../../actors';
import { SqliteStore } from '../../storage-providers';
import { faithfulJournal } from './divergence-journals';
import { fillSqliteFile, makeTmpDir, runCli, settle } from './replay-fixtures';

/**
 * agent_job_failed / agent_job_cancelled records carry job_id but no in_reply_to_sequence; the timeline names the
 * record they answer from their job's start, so "which message did the failure answer?" is read off one line.
 */
describe('replay timeline: job end records name the record their job answered', () => {
  let dir: string;
  let db: string;

  beforeAll(async () => {
    dir = makeTmpDir();
    db = path.join(dir, 'chat.db');
    await fillSqliteFile(db, async (store) => {
      await recordFailingAgent(store);
      await store.createConversation({
        conversation_id: 'conv-1',
        title: 'hand-made',
        created_at: '2026-01-01T09:00:00.000Z',
        created_by: 'alice',
        settings: {},
        status: 'active',
      });
      await store.appendMessages('conv-1', faithfulJournal());
    });
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('an agent failure recorded by the runtime shows [re #N] of the post it failed to answer, also in --as', async () => {
    for (const args of [['c-fail'], ['c-fail', '--as', 'carol']]) {
      const out = await runCli([...args, '--storage', `sqlite:${db}`]);
      expect(out).toMatchObject({ code: 0, stderr: '' });
      const lines = out.stdout.split('\n');
      const post = lines.find((l) => /carol \(human\)\s+text\s+deploy now\?/.test(l));
      const failed = lines.find((l) => /agent_job_failed/.test(l));
      expect(post).toBeDefined();
      const postSeq = post!.trim().split(/\s+/)[0];
      expect(failed).toMatch(new RegExp(`agent_job_failed\\s+\\[re #${postSeq}\\] Flaky could not answer: model gateway 502$`));
    }
    // --json keeps records as stored: the runtime's record has no in_reply_to_sequence, and the CLI adds none.
    const json = await runCli(['c-fail', '--storage', `sqlite:${db}`, '--json']);
    const failedRecord = json.stdout.split('\n').find((l) => l.includes('agent_job_failed'))!;
    expect(JSON.parse(failedRecord).metadata).not.toHaveProperty('in_reply_to_sequence');
  });

  it('failed and cancelled jobs of a stored journal name their triggers; other records are unchanged', async () => {
    const out = await runCli(['conv-1', '--storage', `sqlite:${db}`]);
    expect(out.code).toBe(0);
    const records = faithfulJournal();
    const triggerOf = (type: string) => {
      const end = records.find((r) => r.message_type === type)!;
      const start = records.find((r) => r.message_type === 'agent_job_started' && r.metadata.job_id === end.metadata.job_id)!;
      return { seq: end.sequence_id, trigger: start.metadata.in_reply_to_sequence as number };
    };
    for (const type of ['agent_job_failed', 'agent_job_cancelled']) {
      const { seq, trigger } = triggerOf(type);
      expect(out.stdout).toMatch(new RegExp(`^\\s+${seq}  \\S+  system \\(system\\)\\s+${type}\\s+\\[re #${trigger}\\] `, 'm'));
    }
    expect(out.stdout).toMatch(/alice \(human\)\s+text\s+again\?$/m);
  });
});

/** alice, bob and carol talk; the agent answers the first post and throws on the second. */
async function recordFailingAgent(store: SqliteStore): Promise<void> {
  let calls = 0;
  const flaky: Agent = {
    id: 'flaky',
    displayName: 'Flaky',
    wantsTurn: (m) => m.sender_type === 'human',
    async *respond(turn) {
      calls += 1;
      if (calls === 2) throw new Error('model gateway 502');
      yield { content: `ok: ${turn.trigger.content}`, final: true };
    },
  };
  const clock = createManualClock(Date.UTC(2026, 11, 6, 9, 0, 0));
  const runtime = await createChatRuntime({
    config: { observability: { log_level: 'silent' }, chat: { nlweb: { endpoints: [{ id: 'flaky', url: 'standin' }] } } },
    storage: store,
    agents: [flaky],
    clock,
    ids: createCounterIds('f'),
  });
  // Past the multi-mode input window, so the agent's turn runs.
  const step = async () => {
    clock.advance(2001);
    await settle();
    clock.advance(10);
    await settle();
  };
  try {
    await runtime.createConversation({ conversation_id: 'c-fail', created_by: 'alice', title: 'failing agent' });
    await runtime.post('c-fail', { sender_id: 'alice', message_id: 'a1', content: 'status?' });
    await step();
    await runtime.join('c-fail', { participant_id: 'bob', participant_type: 'human' });
    await runtime.join('c-fail', { participant_id: 'carol', participant_type: 'human' });
    await runtime.post('c-fail', { sender_id: 'carol', message_id: 'c1', content: 'deploy now?' });
    await step();
  } finally {
    await runtime.close();
  }
}
