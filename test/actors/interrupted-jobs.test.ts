import type { ChatMessage } from '../../actors';
import { findInterruptedJobs, LOOK_BACK_MAX_RECORDS, OpenJobs } from '../../actors/interrupted-jobs';
import { MemoryStore } from '../../storage-providers';
import { message } from '../agents/turn-fixtures';

/**
 * Which agent jobs a cold start finds cut off (actors/interrupted-jobs.ts): started (or answering) and not ended,
 * in the restored window and, while the records are younger than the look-back, before it.
 */
const T0 = Date.UTC(2026, 0, 1, 12, 0, 0);

function record(seq: number, msAfterT0: number, fields: Partial<ChatMessage> = {}): ChatMessage {
  const timestamp = new Date(T0 + msAfterT0).toISOString();
  return message({ message_id: `m${seq}`, conversation_id: 'c', sequence_id: seq, content: `m${seq}`, timestamp, ...fields });
}
const started = (seq: number, ms: number, job: string) =>
  record(seq, ms, {
    message_id: `agent_job_started-${seq}`,
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'agent_job_started',
    metadata: { job_id: job, participant_id: 'nlweb', in_reply_to_sequence: seq - 1 },
  });
const piece = (seq: number, ms: number, job: string, complete: boolean) =>
  record(seq, ms, {
    message_id: `${job}:${seq}`,
    sender_id: 'nlweb',
    sender_type: 'ai',
    metadata: { job_id: job, part: 1, complete, in_reply_to_sequence: 1 },
  });

async function storeWith(records: ChatMessage[]): Promise<MemoryStore> {
  const store = new MemoryStore();
  await store.open();
  await store.createConversation({
    conversation_id: 'c',
    title: '',
    created_at: new Date(T0).toISOString(),
    created_by: 'alice',
    settings: {},
    status: 'active',
  });
  for (let i = 0; i < records.length; i += 500) await store.appendMessages('c', records.slice(i, i + 500));
  return store;
}

describe('OpenJobs', () => {
  it('keeps jobs started or answering without an end; any end closes one, and a stray piece after it does not reopen it', () => {
    const jobs = new OpenJobs();
    const records = [
      started(2, 0, 'a'),
      piece(3, 0, 'a', false),
      started(4, 0, 'b'),
      piece(5, 0, 'b', true),
      piece(6, 0, 'b', false),
      piece(7, 0, 'older', false), // its start is before what was read
      started(8, 0, 'c'),
      record(9, 0, { sender_type: 'system', sender_id: 'system', message_type: 'agent_job_failed', metadata: { job_id: 'c' } }),
    ];
    for (const m of records) jobs.accept(m);
    expect(jobs.jobs.map((j) => [j.jobId, j.participantId, j.first.sequence_id])).toEqual([
      ['a', 'nlweb', 2],
      ['older', 'nlweb', 7],
    ]);
  });
});

describe('findInterruptedJobs', () => {
  const LOOK_BACK_MS = 40_000;

  it('reads past the window while the records are younger than the look-back: a job started 1 500 records back is found', async () => {
    const records = [record(1, 0), started(2, 1, 'long')];
    for (let seq = 3; seq <= 1502; seq++) records.push(record(seq, seq));
    const store = await storeWith(records);
    const window = records.slice(-1000);
    expect((await findInterruptedJobs(store, 'c', window, 0)).jobs).toEqual([]);
    const found = await findInterruptedJobs(store, 'c', window, LOOK_BACK_MS);
    expect(found).toMatchObject({ complete: true, jobs: [{ jobId: 'long', first: { sequence_id: 2 } }] });
  });

  it('reads nothing for an empty window, or when the window already reaches back past the look-back', async () => {
    const records = [record(1, 0), started(2, 0, 'old'), record(3, LOOK_BACK_MS + 1)];
    const store = await storeWith(records);
    const reads = jest.spyOn(store, 'readMessages');
    expect((await findInterruptedJobs(store, 'c', [], LOOK_BACK_MS)).jobs).toEqual([]);
    expect((await findInterruptedJobs(store, 'c', records.slice(1), LOOK_BACK_MS)).jobs.map((j) => j.jobId)).toEqual(['old']);
    expect(reads).not.toHaveBeenCalled();
    // A window younger than the look-back: one page before it is read (the job is in it).
    expect((await findInterruptedJobs(store, 'c', records.slice(2), LOOK_BACK_MS)).jobs.map((j) => j.jobId)).toEqual(['old']);
    expect(reads).toHaveBeenCalledTimes(1);
  });

  it(`reads at most ${LOOK_BACK_MAX_RECORDS} records past the window`, async () => {
    const records = [record(1, 0), started(2, 0, 'beyond')];
    const total = LOOK_BACK_MAX_RECORDS + 1000 + 10;
    for (let seq = 3; seq <= total; seq++) records.push(record(seq, 1));
    const store = await storeWith(records);
    const reads = jest.spyOn(store, 'readMessages');
    // The job started before the bound: not found (documented limit; the replay check reports such journals).
    const found = await findInterruptedJobs(store, 'c', records.slice(-1000), LOOK_BACK_MS);
    expect(found).toEqual({ complete: true, jobs: [] });
    const read = (await Promise.all(reads.mock.results.map((r) => r.value as Promise<ChatMessage[]>))).flat();
    expect(read).toHaveLength(LOOK_BACK_MAX_RECORDS);
  });

  it('when reading past the window fails, returns the window’s jobs and says it is incomplete', async () => {
    const store = await storeWith([record(1, 0), started(2, 1, 'x'), record(3, 2)]);
    jest.spyOn(store, 'readMessages').mockRejectedValue(new Error('storage down'));
    const found = await findInterruptedJobs(store, 'c', [started(2, 1, 'x'), record(3, 2)], LOOK_BACK_MS);
    expect(found).toMatchObject({ complete: false, jobs: [{ jobId: 'x' }] });
  });
});
