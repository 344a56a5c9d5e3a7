import fs from 'node:fs';
import { makeTmpDir, parseJsonLines, runCli, writeJournal } from './replay-fixtures';
import { cleanJournal, violationCases } from './violation-journals';

describe('replay --check as a child process', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 0 on a clean journal', async () => {
    const file = writeJournal(dir, 'clean.jsonl', cleanJournal());
    const out = await runCli(['--file', file, '--check']);
    expect(out).toEqual({ code: 0, stdout: 'check OK: conversation conv-1: 5 records, 0 violations\n', stderr: '' });
  });

  it.each(violationCases().map((c, i) => [c.name, c, i] as const))('exits 2 on %s and names each offending entry', async (_name, c, i) => {
    const file = writeJournal(dir, `case-${i}.jsonl`, c.records, 'conv-1');
    const out = await runCli(['replay', 'conv-1', '--file', file, '--check']);
    expect(out.code).toBe(2);
    const reported = out.stdout.split('\n').filter((l) => l.startsWith('violation '));
    expect(reported.map((l) => /^violation #(\d+) (\w+):/.exec(l)!.slice(1))).toEqual(c.expected.map(([seq, kind]) => [String(seq), kind]));
    expect(out.stdout).toContain(`check FAILED: conversation conv-1: ${c.records.length} records, ${c.expected.length} violations`);
    const json = await runCli(['--file', file, '--check', '--json']);
    expect(json.code).toBe(2);
    const lines = parseJsonLines(json.stdout);
    expect(lines.filter((l) => l.type === 'violation').map((l) => [l.sequence_id, l.kind])).toEqual(c.expected);
    expect(lines.at(-1)).toMatchObject({ type: 'check_summary', violations: c.expected.length });
  });

  it('notes a job open at the end (it may still be running) without failing: exit 0', async () => {
    const file = writeJournal(dir, 'open-job.jsonl', cleanJournal().slice(0, 4));
    const out = await runCli(['--file', file, '--check']);
    expect(out).toEqual({
      code: 0,
      stdout:
        'note #4 answer_open: job conv-1:3:echo of echo (answering #3) has no record ending it yet: it may still be running ' +
        '(message agent_job_started-4, sender system)\ncheck OK: conversation conv-1: 4 records, 0 violations\n',
      stderr: '',
    });
    const json = parseJsonLines((await runCli(['--file', file, '--check', '--json'])).stdout);
    expect(json[0]).toMatchObject({
      type: 'note',
      kind: 'answer_open',
      conversation_id: 'conv-1',
      sequence_id: 4,
      job_id: 'conv-1:3:echo',
    });
  });

  it('prints at most --max-reports violations but counts them all', async () => {
    const records = cleanJournal();
    const broken = records.map((r, i) => (i === 0 ? r : { ...r, sequence_id: r.sequence_id + 10 * i }));
    const file = writeJournal(dir, 'many.jsonl', broken);
    const out = await runCli(['--file', file, '--check', '--max-reports', '2']);
    expect(out.code).toBe(2);
    expect(out.stdout.split('\n').filter((l) => l.startsWith('violation '))).toHaveLength(2);
    expect(out.stdout).toMatch(/5 records, \d+ violations \(\d+ more not shown; raise --max-reports\)/);
  });

  it('exits 1 with the line number on a malformed line, and on a missing file', async () => {
    const file = writeJournal(dir, 'bad.jsonl', cleanJournal());
    fs.appendFileSync(file, '{"sequence_id": 6, "oops": true}\n');
    const bad = await runCli(['--file', file, '--check']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain(`CHAT_ERR_INVALID_MESSAGE: ${file}: line 7: not a journal record`);
    const missing = await runCli(['--file', `${dir}/nope.jsonl`, '--check']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/CONFIG_ERR_READ: cannot read .*nope\.jsonl/);
  });
});
