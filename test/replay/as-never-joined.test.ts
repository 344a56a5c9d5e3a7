import { recordedSqliteJournal, runCli } from './replay-fixtures';

/**
 * `--as` naming someone who never joined, on a conversation the runtime recorded on a SQLite file (recordConversation:
 * alice, echo "Echo" and bob "Bob" joined). The note said only "Bob never joined", read by someone holding a bug report
 * that names Bob as "Bob was never there"; it now says what to give instead. And a SQLite file or an export given to
 * --storage as a bare path gets the spelling that works.
 */
describe('replay: what --as and --storage take, when given something else (CLI process, SQLite store)', () => {
  const journal = recordedSqliteJournal();

  it('a display name points at its id, another case at the id, anything else lists who joined (exit 0)', async () => {
    const byName = await runCli([journal.id, '--storage', journal.spec, '--as', 'Bob']);
    expect(byName.code).toBe(0);
    expect(byName.stderr).toBe(
      `replay: Bob never joined conversation ${journal.id}: --as takes a participant id, and "Bob" is the display name of bob (--as bob)\n`,
    );
    const byCase = await runCli([journal.id, '--storage', journal.spec, '--as', 'ALICE']);
    expect(byCase.stderr).toBe(`replay: ALICE never joined conversation ${journal.id}: ids are case-sensitive (--as alice)\n`);
    const stranger = await runCli([journal.id, '--storage', journal.spec, '--as', 'zed', '--json']);
    expect(stranger).toEqual({
      code: 0,
      stdout: '',
      stderr: `replay: zed never joined conversation ${journal.id} (participants who joined: alice, echo, bob)\n`,
    });
  });

  it('--storage with a bare SQLite path or an export file says how to give it (exit 1)', async () => {
    const bare = await runCli([journal.id, '--storage', journal.db]);
    expect(bare).toMatchObject({ code: 1, stdout: '' });
    expect(bare.stderr).toBe(
      `replay: CONFIG_ERR_INVALID: unknown storage "${journal.db}": use memory, sqlite:<file>, postgres:// or postgresql://..., redis:// or rediss://... (for the SQLite file ${journal.db}: --storage sqlite:${journal.db})\n`,
    );
    const jsonl = await runCli([journal.id, '--storage', 'c1.jsonl']);
    expect(jsonl.stderr).toContain('(for an export: --file c1.jsonl)');
  });
});
