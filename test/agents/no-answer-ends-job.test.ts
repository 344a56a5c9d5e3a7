import { createAgentsFromConfig } from '../../actors/agents/create-agents-from-config';
import type { NlwebAgent } from '../../actors/agents/nlweb-agent';
import type { ConfigInput } from '../../config/config-types';
import { loadConfig } from '../../config';
import { createNlwebStandinServer, type NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { closeAll, invalidFrames, startHarness } from '../gateway/harness';
import type { TestClient } from '../gateway/ws-test-client';

/**
 * An NLWeb participant that decides not to answer ends its job visibly: the conversation already says
 * "<name> is answering" (agent_job_started), so a client needs a record that says the job is over. With
 * `on_no_answer: silent` (the default) that is an `agent_job_finished` system record naming the job and
 * NLWeb's reason; with `note` it is the note itself (an answer marked complete). Real server, real ws
 * client, the bundled stand-in told to find nothing.
 */
let standin: NlwebStandinServer | undefined;
let agents: Map<string, NlwebAgent> | undefined;

afterEach(async () => {
  await closeAll();
  for (const agent of agents?.values() ?? []) agent.close();
  agents = undefined;
  await standin?.close();
  standin = undefined;
});

type MessageFrame = Extract<TestClient['frames'][number], { type: 'message' }>;
type Record = MessageFrame['message'];

/** A server whose one NLWeb endpoint is the stand-in, and alice alone with it (single mode: answered at once). */
async function aliceWithNlweb(onNoAnswer?: 'silent' | 'note'): Promise<TestClient> {
  standin = await createNlwebStandinServer({ latencyMs: 0 });
  const overrides: ConfigInput = {
    chat: {
      nlweb: { endpoints: [{ id: 'nlweb', display_name: 'NLWeb', url: 'standin' }], standin: { enabled: false } },
      ...(onNoAnswer ? { agents: { on_no_answer: onNoAnswer } } : {}),
    },
  };
  agents = createAgentsFromConfig(loadConfig({ overrides }), { standinUrl: standin.url });
  const h = await startHarness(overrides, { agents: [...agents.values()] });
  const conversation = await h.createConversation('alice', [], { agents: ['nlweb'] });
  return h.connect(conversation, 'alice');
}

/** Alice asks; resolves with the job's "is answering" record and the first record that ends that job. */
async function ask(alice: TestClient, id: string, content: string): Promise<{ started: Record; ended: Record }> {
  alice.send({ type: 'message', message_id: id, content });
  const question = (await alice.waitFor('message', (f) => f.message.message_id === id)).message;
  const started = (
    await alice.waitFor(
      'message',
      (f) => f.message.message_type === 'agent_job_started' && f.message.metadata.in_reply_to_sequence === question.sequence_id,
    )
  ).message;
  const job = started.metadata.job_id;
  const ended = (
    await alice.waitFor('message', (f) => {
      const m = f.message;
      if (m.metadata.job_id !== job || m === started) return false;
      return m.metadata.complete === true || ['agent_job_finished', 'agent_job_failed', 'agent_job_cancelled'].includes(m.message_type);
    })
  ).message;
  return { started, ended };
}

describe('an NLWeb agent with no answer ends its job', () => {
  test('silent (default), no_results: an agent_job_finished record with the reason follows "is answering"', async () => {
    const alice = await aliceWithNlweb();
    standin!.setBehaviour('no-results');
    const { started, ended } = await ask(alice, 'q1', 'vegetarian');
    expect(started.content).toBe('NLWeb is answering');
    expect(ended).toMatchObject({
      sender_type: 'system',
      sender_id: 'system',
      message_type: 'agent_job_finished',
      content: 'NLWeb has no answer (no results)',
      metadata: {
        job_id: started.metadata.job_id,
        participant_id: 'nlweb',
        reason: 'no_results',
        in_reply_to_sequence: started.metadata.in_reply_to_sequence,
      },
    });
    expect(ended.sequence_id).toBeGreaterThan(started.sequence_id);
    // Nothing from the agent itself: silent still posts no AI message.
    expect(alice.sequenceIds((m) => m.sender_id === 'nlweb')).toEqual([]);

    // The conversation carries on: the next question is answered as usual, and that job ends with its completion marker.
    standin!.setBehaviour('normal');
    const next = await ask(alice, 'q2', 'vegetarian');
    expect(next.ended).toMatchObject({ sender_id: 'nlweb', metadata: { complete: true } });
    expect(alice.frames.filter((f) => f.type === 'message' && f.message.message_type === 'agent_job_finished')).toHaveLength(1);
    expect(invalidFrames()).toEqual([]);
  });

  test('silent, site_is_irrelevant_to_query: the record names that reason', async () => {
    const alice = await aliceWithNlweb('silent');
    standin!.setBehaviour('irrelevant');
    const { ended } = await ask(alice, 'q1', 'vegetarian');
    expect(ended).toMatchObject({
      message_type: 'agent_job_finished',
      content: 'NLWeb has no answer (site is irrelevant to query)',
      metadata: { reason: 'site_is_irrelevant_to_query' },
    });
  });

  test('silent, nothing matches: the record keeps what the stand-in said, its hint of what to try (reason_text)', async () => {
    const alice = await aliceWithNlweb();
    const { ended } = await ask(alice, 'q1', 'quantum chromodynamics');
    expect(ended).toMatchObject({
      message_type: 'agent_job_finished',
      content: 'NLWeb has no answer (no results)',
      metadata: {
        reason: 'no_results',
        reason_text:
          'No results were found for "quantum chromodynamics". This NLWeb stand-in knows only its 12 bundled items (recipes.example.org, gear.example.org): try "vegetarian" or "tent".',
      },
    });
  });

  test('note, nothing matches: the note carries the hint too (reason_text)', async () => {
    const alice = await aliceWithNlweb('note');
    const { ended } = await ask(alice, 'q1', 'quantum chromodynamics');
    expect(ended).toMatchObject({
      sender_id: 'nlweb',
      content: 'NLWeb has no answer (no results)',
      metadata: { complete: true, no_answer: 'no_results', reason_text: expect.stringContaining('try "vegetarian" or "tent".') },
    });
  });

  test('note: the note ends the job (an answer marked complete), no agent_job_finished; same words as that record', async () => {
    const alice = await aliceWithNlweb('note');
    standin!.setBehaviour('no-results');
    const { ended } = await ask(alice, 'q1', 'vegetarian');
    expect(ended).toMatchObject({
      sender_id: 'nlweb',
      content: 'NLWeb has no answer (no results)',
      metadata: { complete: true, no_answer: 'no_results' },
    });
    expect(alice.sequenceIds((m) => m.message_type === 'agent_job_finished')).toEqual([]);
  });
});
