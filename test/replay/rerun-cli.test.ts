import fs from 'node:fs';
import { makeTmpDir, parseJsonLines, runCli, writeJournal } from './replay-fixtures';
import { divergenceCases, faithfulJournal } from './divergence-journals';

describe('replay --rerun as a child process', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('exits 0 when the machine reproduces every record (and the journal passes --check too)', async () => {
    const records = faithfulJournal();
    const file = writeJournal(dir, 'faithful.jsonl', records);
    const out = await runCli(['--file', file, '--rerun', '--check']);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(0);
    expect(out.stdout).toBe(
      `check OK: conversation conv-1: ${records.length} records, 0 violations\n` +
        `rerun OK: conversation conv-1: ${records.length} records, ${records.length} compared, 0 divergences\n`,
    );
  });

  it.each(divergenceCases().map((c, i) => [c.name, c, i] as const))('exits 3 on %s', async (_name, c, i) => {
    const file = writeJournal(dir, `div-${i}.jsonl`, c.records);
    const out = await runCli(['--file', file, '--rerun']);
    expect(out.code).toBe(3);
    const first = out.stdout.split('\n').find((l) => l.startsWith('divergence '))!;
    expect(first).toMatch(new RegExp(`^divergence #${c.first[0]} ${c.first[1]}: `));
    expect(first).toMatch(c.detail);
    expect(out.stdout).toMatch(/rerun FAILED: conversation conv-1: /);
    const json = parseJsonLines((await runCli(['--file', file, '--rerun', '--json'])).stdout);
    expect(json[0]).toMatchObject({ type: 'divergence', sequence_id: c.first[0], kind: c.first[1] });
    expect(json.at(-1)).toMatchObject({ type: 'rerun_summary' });
  });

  it('exits 2 rather than 3 when a journal both violates an invariant and diverges', async () => {
    const c = divergenceCases().find((x) => x.name.startsWith('a post the machine refuses'))!;
    const file = writeJournal(dir, 'both.jsonl', c.records);
    const out = await runCli(['--file', file, '--rerun', '--check']);
    expect(out.code).toBe(2);
    expect(out.stdout).toMatch(/^violation #2 not_a_member:/m);
    expect(out.stdout).toMatch(/^divergence #2 missing:/m);
  });

  it('refuses --as together with --rerun (usage error, exit 1)', async () => {
    const file = writeJournal(dir, 'usage.jsonl', faithfulJournal());
    const out = await runCli(['--file', file, '--rerun', '--as', 'alice']);
    expect(out.code).toBe(1);
    expect(out.stderr).toContain('--as applies to the timeline');
  });
});
