import fs from 'node:fs';
import path from 'node:path';
import type { ChatMessage } from '../../actors';
import { createInvariantChecker } from '../../bin/replay/invariant-check';
import { makeHeader, parseJournalLine, toJsonLine } from '../../bin/replay/jsonl';
import { journalBuilder, makeTmpDir, parseJsonLines, runMain } from './replay-fixtures';

/**
 * A journal whose first 15 records are gone (a bounded memory store dropped them): alice and bob
 * joined and echo answered before #16, so what is held starts with posts of members whose joins are
 * not in it, an answer to a dropped question and a leave of someone whose join was dropped.
 */
function trimmedJournal(): ChatMessage[] {
  const j = journalBuilder();
  const all: ChatMessage[] = [j.join('alice'), j.join('bob'), j.join('echo', 'ai')];
  let question = j.post('alice', 'q0', 'q0');
  all.push(question);
  while (all.length < 16) {
    question = j.post('alice', `q${all.length}`, `q${all.length}`);
    all.push(question);
  }
  // #17 answers #16's question; everything from #16 on is what the store still holds.
  all.push(j.jobStarted('echo', question), j.answer('echo', question, 'echo'), j.post('bob', 'b1', 'bye'), j.leave('bob'));
  all.push(j.post('alice', 'q-last', 'still here'));
  const held = all.filter((r) => r.sequence_id >= 16);
  // The job started record answers #16, the answer too; make one answer a dropped record instead.
  return held.map((r) => (r.message_type === 'agent_job_started' ? { ...r, metadata: { ...r.metadata, in_reply_to_sequence: 4 } } : r));
}

const run = runMain;

function writeFile(dir: string, name: string, records: readonly ChatMessage[], historyStartsAt?: number): string {
  const file = path.join(dir, name);
  const header = makeHeader('conv-1', new Date(Date.UTC(2026, 0, 2)), undefined, historyStartsAt);
  fs.writeFileSync(file, [header, ...records].map((l) => `${toJsonLine(l)}\n`).join(''));
  return file;
}

describe('invariant checker over a trimmed history', () => {
  it('checks from the declared start: members whose joins were dropped, answers to dropped records are fine', () => {
    const checker = createInvariantChecker({ historyStartsAt: 16 });
    expect(trimmedJournal().flatMap((r) => checker.accept(r))).toEqual([]);
  });

  it('without the declared start the same journal starts with a sequence_gap', () => {
    const checker = createInvariantChecker();
    const kinds = trimmedJournal().flatMap((r) => checker.accept(r).map((v) => [v.sequence_id, v.kind]));
    expect(kinds[0]).toEqual([16, 'sequence_gap']);
  });

  it('a hole inside the held range is still a sequence_gap; a member who left still may not write', () => {
    const records = trimmedJournal().filter((r) => r.sequence_id !== 18);
    const checker = createInvariantChecker({ historyStartsAt: 16 });
    const after = records.at(-1)!;
    const late = { ...after, sequence_id: after.sequence_id + 1, message_id: 'b-late', sender_id: 'bob' };
    expect([...records, late].flatMap((r) => checker.accept(r)).map((v) => [v.sequence_id, v.kind])).toEqual([
      [19, 'sequence_gap'],
      [22, 'not_a_member'],
    ]);
  });

  it('a journal starting later than declared has a sequence_gap from the declared start', () => {
    const checker = createInvariantChecker({ historyStartsAt: 14 });
    const found = trimmedJournal().flatMap((r) => checker.accept(r));
    expect(found.map((v) => [v.sequence_id, v.kind, v.detail])).toEqual([
      [16, 'sequence_gap', 'sequence ids 14..15 are missing; #16 is the record after the gap'],
    ]);
  });
});

describe('JSONL header history_starts_at', () => {
  it('is written only when history starts above 1 and must be a positive integer', () => {
    const at = new Date(Date.UTC(2026, 0, 1));
    expect(makeHeader('c1', at)).not.toHaveProperty('history_starts_at');
    expect(makeHeader('c1', at, undefined, 1)).not.toHaveProperty('history_starts_at');
    expect(makeHeader('c1', at, undefined, 16)).toMatchObject({ history_starts_at: 16 });
    const bad = { ...makeHeader('c1', at), history_starts_at: 0 };
    expect(() => parseJournalLine(JSON.stringify(bad), 1)).toThrow(/line 1: .*history_starts_at/);
  });
});

describe('replay CLI over a trimmed history', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('--check notes history_trimmed, reports no sequence_gap and exits 0', async () => {
    const records = trimmedJournal();
    const file = writeFile(dir, 'trimmed.jsonl', records, 16);
    const out = await run('--file', file, '--check');
    expect(out).toEqual({
      code: 0,
      stdout:
        'note history_trimmed: sequence ids 1..15 are not in this journal (the source no longer holds them); checked from #16\n' +
        `check OK: conversation conv-1: ${records.length} records, 0 violations (history from #16)\n`,
      stderr: '',
    });
    const json = parseJsonLines((await run('--file', file, '--check', '--json')).stdout);
    expect(json[0]).toEqual({ type: 'note', kind: 'history_trimmed', conversation_id: 'conv-1', from: 1, to: 15 });
    expect(json.at(-1)).toMatchObject({ type: 'check_summary', violations: 0, history_starts_at: 16 });
  });

  it('--check still exits 2 on a gap inside the held range', async () => {
    const file = writeFile(
      dir,
      'holed.jsonl',
      trimmedJournal().filter((r) => r.sequence_id !== 18),
      16,
    );
    const out = await run('--file', file, '--check');
    expect(out.code).toBe(2);
    expect(out.stdout).toMatch(/^violation #19 sequence_gap: sequence id 18 is missing/m);
  });

  it('--rerun refuses a trimmed history (exit 1) instead of reporting divergences', async () => {
    const file = writeFile(dir, 'rerun.jsonl', trimmedJournal(), 16);
    const out = await run('--file', file, '--rerun', '--check');
    expect(out.code).toBe(1);
    expect(out.stdout).toBe('');
    expect(out.stderr).toBe(
      'replay: --rerun needs the journal from #1, but conversation conv-1 is held from #16 (ids 1..15 were dropped); ' +
        'use --check or the timeline, or read a store that keeps the whole journal\n',
    );
  });

  it('the timeline notes where history starts; export keeps history_starts_at in its header', async () => {
    const file = writeFile(dir, 'timeline.jsonl', trimmedJournal(), 16);
    const timeline = await run('--file', file);
    expect(timeline.code).toBe(0);
    expect(timeline.stderr).toBe('replay: conversation conv-1 is held from #16 (ids 1..15 are no longer held)\n');
    const exported = await run('export', '--file', file);
    expect(parseJsonLines(exported.stdout)[0]).toMatchObject({ conversation_id: 'conv-1', history_starts_at: 16 });
  });
});
