import fs from 'node:fs';
import type { ChatMessage } from '../../actors';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { formatTimelineLine } from '../../bin/replay/timeline-format';
import { journalBuilder, makeTmpDir, parseJsonLines, runCli, writeJournal } from './replay-fixtures';

/**
 * A job answering a multi-mode burst lists every post it answers (metadata.in_reply_to_sequences). The timeline names
 * them all ("[re #4, #5]", a run as "#4..#6"), and --check verifies each listed id comes before the answer. Journals
 * written before the list (in_reply_to_sequence alone) read as before.
 */

/** alice and bob post #4 and #5 (one burst); echo's job answers both: its start #6 and its answer #7. */
function burstJournal(listed: (posts: readonly ChatMessage[]) => readonly number[] = (posts) => posts.map((p) => p.sequence_id)) {
  const j = journalBuilder();
  const joins = [j.join('alice'), j.join('bob'), j.join('echo', 'ai')];
  const posts = [j.post('alice', 'a1', 'where do we eat?'), j.post('bob', 'b1', 'somewhere vegan')];
  const trigger = posts[posts.length - 1];
  const withList = (m: ChatMessage): ChatMessage => ({ ...m, metadata: { ...m.metadata, in_reply_to_sequences: listed(posts) } });
  const started = withList(j.jobStarted('echo', trigger));
  const answer = withList(j.answer('echo', trigger, 'echo: where do we eat?⏎somewhere vegan'));
  return [...joins, ...posts, started, answer];
}

const withAnswered = (ids: readonly number[] | undefined, single?: number): ChatMessage =>
  journalBuilder().post('echo', 'e1', 'an answer', {
    sender_type: 'ai',
    sequence_id: 300,
    metadata: { ...(ids ? { in_reply_to_sequences: ids } : {}), ...(single !== undefined ? { in_reply_to_sequence: single } : {}) },
  });

describe('timeline line of an answer to several posts', () => {
  it('names each id, a run of three or more as a range, and counts what is left past five runs', () => {
    const line = (ids: readonly number[] | undefined, single?: number) =>
      formatTimelineLine(withAnswered(ids, single), { excerptWidth: 200 });
    expect(line([210, 211], 211)).toMatch(/text\s+\[re #210, #211\] an answer$/);
    expect(line([200, 201, 202, 203, 205, 211], 211)).toMatch(/\[re #200\.\.#203, #205, #211\] an answer$/);
    expect(line([1, 3, 5, 7, 9, 11, 12, 13], 13)).toMatch(/\[re #1, #3, #5, #7, #9 and 3 more\] an answer$/);
    // A journal written before the list: the single id, as before.
    expect(line(undefined, 211)).toMatch(/\[re #211\] an answer$/);
  });
});

describe('invariant check of the listed ids', () => {
  const check = (records: readonly ChatMessage[]) => {
    const checker = createInvariantChecker();
    return [...records.flatMap((r) => checker.accept(r)), ...checker.finish()].map((v) => [v.sequence_id, v.kind, v.detail]);
  };

  it('a clean burst answer passes', () => {
    expect(check(burstJournal())).toEqual([]);
  });

  it('flags a listed id that is not before the answer, though in_reply_to_sequence is', () => {
    // The start (#6) and the answer (#7) list #4 and #7: #7 is the answer itself, and after the start.
    const records = burstJournal((posts) => [posts[0].sequence_id, 7]);
    expect(check(records)).toEqual([
      [6, 'answer_before_trigger', 'answers #7, which is not before it'],
      [7, 'answer_before_trigger', 'answers #7, which is not before it'],
    ]);
    // Several ids ahead: one violation naming them.
    expect(check(burstJournal(() => [5, 8, 9]))[0]).toEqual([6, 'answer_before_trigger', 'answers #8, #9, which are not before it']);
  });

  it('flags a listed id the journal does not have before the answer', () => {
    const records = burstJournal(() => [2.5, 5]);
    expect(check(records)).toEqual([
      [6, 'answer_without_trigger', 'answers #2.5, which is not in the journal before it'],
      [7, 'answer_without_trigger', 'answers #2.5, which is not in the journal before it'],
    ]);
  });

  it('ignores the list on human records, as it ignores in_reply_to_sequence there', () => {
    const j = journalBuilder();
    const records = [j.join('alice'), j.post('alice', 'a1', 'hi', { metadata: { in_reply_to_sequences: [9] } })];
    expect(check(records)).toEqual([]);
  });
});

describe('replay CLI: a burst answer (child process)', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows every post the job answers on its start and its answer, and --check passes', async () => {
    const file = writeJournal(dir, 'burst.jsonl', burstJournal());
    const out = await runCli(['--file', file]);
    expect(out).toMatchObject({ code: 0, stderr: '' });
    expect(out.stdout).toMatch(/^ {6}6 .*agent_job_started\s+\[re #4, #5\] echo is answering$/m);
    expect(out.stdout).toMatch(/^ {6}7 .*echo \(ai\)\s+text\s+\[re #4, #5\] echo: /m);
    expect((await runCli(['--file', file, '--check'])).code).toBe(0);
  });

  it("a failed job's end, which lists nothing itself, names the posts its start listed", async () => {
    const [a, b, e, p1, p2, started] = burstJournal();
    const failed: ChatMessage = {
      ...started,
      sequence_id: 7,
      message_id: 'agent_job_failed-7',
      message_type: 'agent_job_failed',
      content: 'echo could not answer: boom',
      metadata: { job_id: started.metadata.job_id, participant_id: 'echo', code: 'AGENT_ERR_FAILED' },
    };
    const out = await runCli(['--file', writeJournal(dir, 'failed.jsonl', [a, b, e, p1, p2, started, failed])]);
    expect(out.stdout).toMatch(/^ {6}7 .*agent_job_failed\s+\[re #4, #5\] echo could not answer: boom$/m);
  });

  it('--check exits 2 when a listed id comes after the answer', async () => {
    const file = writeJournal(
      dir,
      'late.jsonl',
      burstJournal((posts) => [posts[0].sequence_id, 9]),
    );
    const out = await runCli(['--file', file, '--check', '--json']);
    expect(out.code).toBe(2);
    const violations = parseJsonLines(out.stdout).filter((l) => l.type === 'violation');
    expect(violations.map((v) => [v.sequence_id, v.kind])).toEqual([
      [6, 'answer_before_trigger'],
      [7, 'answer_before_trigger'],
    ]);
  });
});
