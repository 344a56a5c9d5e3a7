import type { ChatMessage } from '../../actors';
import { createMachineRerun, deriveEvent, formatDivergence } from '../../bin/replay/machine-rerun';
import { journalBuilder } from './replay-fixtures';
import { divergenceCases, faithfulJournal } from './divergence-journals';

function rerunAll(records: readonly ChatMessage[]) {
  const rerun = createMachineRerun({ conversationId: 'conv-1' });
  const divergences = [...records.flatMap((r) => rerun.accept(r)), ...rerun.finish()];
  return { divergences, compared: rerun.compared };
}

describe('machine re-run (unit)', () => {
  it('reproduces a journal with joins, mode changes, answers, failures, cancellations and a redaction', () => {
    const records = faithfulJournal();
    const { divergences, compared } = rerunAll(records);
    expect(divergences).toEqual([]);
    expect(compared).toBe(records.length);
  });

  it.each(divergenceCases().map((c) => [c.name, c] as const))('reports %s', (_name, c) => {
    const { divergences } = rerunAll(c.records);
    expect(divergences.length).toBeGreaterThan(0);
    expect([divergences[0].sequence_id, divergences[0].kind]).toEqual(c.first);
    expect(divergences[0].detail).toMatch(c.detail);
    expect(formatDivergence(divergences[0])).toMatch(new RegExp(`^#${c.first[0]} ${c.first[1]}: `));
  });

  it('steps over a hole: one divergence, and later ones name the journal ids (not the machine ids, one behind)', () => {
    const j = journalBuilder();
    const records = [j.join('alice'), j.post('alice', 'a1', 'one')];
    j.post('alice', 'a2', 'two (not in the journal)');
    records.push(j.post('alice', 'a3', 'three'), j.post('alice', 'a3', 'three'), j.post('alice', 'a4', 'four'));
    expect(rerunAll(records).divergences.map(formatDivergence)).toEqual([
      '#4 hole: sequence id 3 is not in the journal; the re-run steps over it and goes on at #4',
      '#5 missing: the machine emitted nothing for POST (a duplicate of #4)',
    ]);
  });

  it('names each differing field with both values', () => {
    const join = journalBuilder().join('alice', 'human', { content: 'x', message_id: 'y' });
    const { divergences } = rerunAll([join]);
    expect(divergences[0].fields).toEqual([
      { field: 'message_id', journal: 'y', rerun: 'join-1' },
      { field: 'content', journal: 'x', rerun: 'alice joined' },
    ]);
  });

  it('does not compare the content of redacted records (the journal holds the marker)', () => {
    const join = journalBuilder().join('alice', 'human', {
      content: '[redacted]',
      metadata: { ...journalBuilder().join('alice').metadata, redacted: true },
    });
    expect(rerunAll([join]).divergences).toEqual([]);
  });
});

describe('deriveEvent', () => {
  const names = (id: string) => (id === 'echo' ? 'Echo Bot' : undefined);
  const j = journalBuilder();
  const q = j.post('alice', 'a1', 'question', { metadata: { client: 'web', redacted: true } });

  it('turns a human record into a POST with its ids, content, metadata and time', () => {
    expect(deriveEvent(q, names)).toEqual({
      kind: 'event',
      event: {
        type: 'POST',
        receivedAt: Date.parse(q.timestamp),
        message_id: 'a1',
        sender_id: 'alice',
        content: 'question',
        message_type: 'text',
        metadata: { client: 'web' },
      },
    });
  });

  it("turns an agent record into AGENT_OUTPUT, restoring the agent's own metadata and chain depth", () => {
    const answer = j.answer('echo', q, 'part', {
      metadata: { job_id: 'J', in_reply_to: 'a1', in_reply_to_sequence: 1, chain_depth: 2, part: 3, complete: false, source: 'nlweb' },
    });
    expect(deriveEvent(answer, names)).toMatchObject({
      kind: 'event',
      event: {
        type: 'AGENT_OUTPUT',
        jobId: 'J',
        participantId: 'echo',
        part: 3,
        chainDepth: 1,
        triggerSequenceId: 1,
        triggerMessageId: 'a1',
        output: { content: 'part', metadata: { source: 'nlweb' }, final: false },
      },
    });
  });

  it("turns an AI participant's own post into a POST one chain step earlier", () => {
    const post = { ...q, sender_id: 'bot', sender_type: 'ai' as const, metadata: { chain_depth: 3 } };
    expect(deriveEvent(post, names)).toMatchObject({ kind: 'event', event: { type: 'POST', metadata: { chain_depth: 2 } } });
  });

  it("recovers an agent failure's message using the participant's display name", () => {
    const failed = {
      ...q,
      sender_id: 'system',
      sender_type: 'system' as const,
      message_type: 'agent_job_failed',
      content: 'Echo Bot could not answer: x: could not answer: y',
      metadata: { job_id: 'J', participant_id: 'echo', code: 'AGENT_ERR_TIMEOUT' },
    };
    expect(deriveEvent(failed, names)).toMatchObject({
      kind: 'event',
      event: { type: 'AGENT_FAILED', code: 'AGENT_ERR_TIMEOUT', message: 'x: could not answer: y' },
    });
  });

  it('turns a redaction record into REDACT and marks mode changes as derived', () => {
    const red = {
      ...q,
      sender_id: 'system',
      sender_type: 'system' as const,
      message_type: 'redaction',
      metadata: { redacted_sequence_ids: [1, 2], requested_by: 'alice' },
    };
    expect(deriveEvent(red, names)).toMatchObject({
      kind: 'event',
      event: { type: 'REDACT', sequenceIds: [1, 2], requestedBy: 'alice', marker: '[redacted]' },
    });
    expect(deriveEvent(j.mode('multi'), names)).toEqual({ kind: 'derived' });
  });

  it('refuses records it cannot derive an event from', () => {
    expect(deriveEvent({ ...q, timestamp: 'yesterday' }, names)).toEqual({ kind: 'none', reason: 'timestamp "yesterday" does not parse' });
    expect(deriveEvent({ ...j.join('x'), metadata: {} }, names)).toMatchObject({
      kind: 'none',
      reason: 'join record without metadata.participant',
    });
    expect(deriveEvent({ ...q, sender_type: 'system', message_type: 'agent_job_started', metadata: {} }, names)).toMatchObject({
      kind: 'none',
    });
  });
});
