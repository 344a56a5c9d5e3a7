import fs from 'node:fs';
import path from 'node:path';
import { parseJsonLines, recordedSqliteJournal, runCli } from './replay-fixtures';

/** --from / --to: "what was #N?" and a window of the timeline, on a conversation recorded by the runtime (SQLite). */
describe('replay timeline --from / --to (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal();

  const lines = (text: string) => text.trimEnd().split('\n');

  it('--from N --to N prints the heading and record N, exactly as the whole timeline does', async () => {
    const all = lines((await runCli([journal.id, '--storage', journal.spec])).stdout);
    const one = await runCli([journal.id, '--storage', journal.spec, '--from', '11', '--to', '11']);
    expect(one).toMatchObject({ code: 0, stderr: '' });
    expect(lines(one.stdout)).toEqual([all[0], all.find((l) => /^\s+11 {2}/.test(l))]);
  });

  it('--json and --as keep their meaning inside the range', async () => {
    const all = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--json'])).stdout);
    const window = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--json', '--from', '5', '--to', '14'])).stdout);
    expect(window).toEqual(all.filter((r) => (r.sequence_id as number) >= 5 && (r.sequence_id as number) <= 14));
    // alice left at #12 and rejoined later: her view of 5..20 is her whole view cut to that range.
    const alice = parseJsonLines((await runCli([journal.id, '--storage', journal.spec, '--json', '--as', 'alice'])).stdout);
    const aliceWindow = parseJsonLines(
      (await runCli([journal.id, '--storage', journal.spec, '--json', '--as', 'alice', '--from', '5', '--to', '20'])).stdout,
    );
    const inRange = alice.filter((r) => (r.sequence_id as number) >= 5 && (r.sequence_id as number) <= 20);
    expect(aliceWindow).toEqual(inRange);
    expect(aliceWindow.length).toBeLessThan(16);
  });

  it('an empty range is exit 0 with a note on stderr, the heading only on stdout', async () => {
    const out = await runCli([journal.id, '--storage', journal.spec, '--from', '500']);
    expect(out.code).toBe(0);
    expect(lines(out.stdout)).toHaveLength(1);
    expect(out.stderr).toBe(`replay: no record of conversation ${journal.id} in #500..#end\n`);
  });

  it('stops reading past --to: a malformed line after the range is never read', async () => {
    const file = path.join(journal.dir, 'tail-broken.jsonl');
    const exported = await runCli(['export', journal.id, '--storage', journal.spec]);
    fs.writeFileSync(file, `${exported.stdout}{"not":"a record"}\n`);
    expect((await runCli(['--file', file])).code).toBe(1);
    const head = await runCli(['--file', file, '--to', '3']);
    expect(head).toMatchObject({ code: 0, stderr: '' });
    expect(lines(head.stdout)).toHaveLength(4);
  });

  it('bad ranges are usage errors: CONFIG_ERR_INVALID, exit 1, nothing on stdout', async () => {
    const cases: Array<[string[], string]> = [
      [['--from', '5', '--to', '2'], '--from 5 is after --to 2'],
      [['--from', '2', '--check'], '--from and --to apply to the timeline; --check and --rerun read the whole journal'],
      [['--to', '2', '--rerun'], '--from and --to apply to the timeline; --check and --rerun read the whole journal'],
      [['--from', '0'], "option '--from <seq>' argument '0' is invalid. must be a positive integer"],
      [['--to', 'x'], "option '--to <seq>' argument 'x' is invalid. must be a positive integer"],
    ];
    for (const [args, message] of cases) {
      const out = await runCli([journal.id, '--storage', journal.spec, ...args]);
      expect({ args, ...out }).toEqual({
        args,
        code: 1,
        stdout: '',
        stderr: `replay: CONFIG_ERR_INVALID: ${message}\n(add --help for usage)\n`,
      });
    }
  });
});
