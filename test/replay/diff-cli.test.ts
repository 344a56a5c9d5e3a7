import fs from 'node:fs';
import path from 'node:path';
import { createChatRuntime, createCounterIds, createEchoAgent, createManualClock } from '../../actors';
import { makeHeader, toJsonLine } from '../../bin/replay/jsonl';
import { fillSqliteFile, journalBuilder, makeTmpDir, parseJsonLines, recordedSqliteJournal, runCli, writeJournal } from './replay-fixtures';
import { compareRecords } from '../../bin/replay/journal-diff';
import type { ChatMessage } from '../../actors/message-types';

/**
 * `diff <old.jsonl> <new.jsonl>`: "what changed between these two exports?" Before it, the answer was `diff(1)` of
 * two JSONL files: the header line always differs (exported_at), an edit shows as two long lines to compare by eye,
 * and nothing says whether a record was edited in place, appended, lost or replaced by another one.
 */
describe('replay diff: two exports of a runtime-recorded SQLite conversation (CLI process)', () => {
  const journal = recordedSqliteJournal();
  let before = '';
  let after = '';

  beforeAll(async () => {
    before = path.join(journal.dir, 'before.jsonl');
    after = path.join(journal.dir, 'after.jsonl');
    expect((await runCli(['export', journal.id, '--storage', journal.spec, '-o', before])).code).toBe(0);
    // The next day the conversation goes on in the same file: alice edits her message again and deletes her first.
    await fillSqliteFile(journal.db, async (store) => {
      const runtime = await createChatRuntime({
        config: { observability: { log_level: 'silent' }, chat: { nlweb: { endpoints: [{ id: 'echo', url: 'standin' }] } } },
        storage: store,
        agents: [createEchoAgent()],
        clock: createManualClock(Date.UTC(2026, 2, 4, 9, 0, 0)),
        ids: createCounterIds('d'),
      });
      try {
        await runtime.edit(journal.id, 'alice', 'a3', 'I am back, edited twice');
        await runtime.redact(journal.id, { messageIds: ['a1'] }, 'alice');
      } finally {
        await runtime.close();
      }
    });
    expect((await runCli(['export', journal.id, '--storage', journal.spec, '-o', after])).code).toBe(0);
  });

  it('names each record changed in place and each appended one, and exits 5', async () => {
    const out = await runCli(['diff', before, after]);
    expect(out.stderr).toBe('');
    expect(out.code).toBe(5);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines).toEqual([
      '      SEQ  TIME          SENDER                  TYPE                 CONTENT',
      '~       3  10:00:00.000  alice (human)           text                 [redacted]',
      '           changed: content "hello from alice" → "[redacted]"; metadata.redacted (absent) → true',
      '~      19  10:00:06.033  alice (human)           text                 [edited ×2; text as of 09:00:00.000] I am back, edited twice',
      '           changed: content "I am back, edited" → "I am back, edited twice"; metadata.edited_at "2026-03-03T10:00:10.055Z" → "2026-03-04T09:00:00.000Z"; metadata.edit_count 1 → 2',
      '+      24  09:00:00.000  system (system)         edit                 [edit 2 of #19 by alice] I am back, edited twice',
      '+      25  09:00:00.000  system (system)         redaction            [redacts #3 by alice] 1 message(s) redacted',
      `diff FOUND: conversation ${journal.id}: 23 records in ${before}, 25 in ${after}: 2 added, 0 removed, 2 changed, 0 replaced`,
    ]);
  });

  it('--json gives each difference with both records and the changed fields; the same file twice is no difference', async () => {
    const json = parseJsonLines((await runCli(['diff', before, after, '--json'])).stdout);
    expect(json.map((l) => [l.type, l.change, l.sequence_id])).toEqual([
      ['diff', 'changed', 3],
      ['diff', 'changed', 19],
      ['diff', 'added', 24],
      ['diff', 'added', 25],
      ['diff_summary', undefined, undefined],
    ]);
    expect(json[0].fields).toEqual([
      { field: 'content', old: 'hello from alice', new: '[redacted]' },
      { field: 'metadata.redacted', new: true },
    ]);
    expect(json[4]).toEqual({
      type: 'diff_summary',
      conversation_id: journal.id,
      old_records: 23,
      new_records: 25,
      added: 2,
      removed: 0,
      changed: 2,
      replaced: 0,
      conversation_changed: false,
    });
    const same = await runCli(['diff', after, after]);
    expect(same).toEqual({
      code: 0,
      stdout: `diff NONE: conversation ${journal.id}: 25 records in ${after}, 25 in ${after}: 0 added, 0 removed, 0 changed, 0 replaced\n`,
      stderr: '',
    });
  });
});

describe('replay diff: histories that diverged, and what it refuses (CLI process)', () => {
  let dir: string;
  beforeAll(() => (dir = makeTmpDir()));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('shows a record another one replaced (< old, > new) and one the newer read no longer has', async () => {
    const j = journalBuilder();
    const join = j.join('alice');
    const first = j.post('alice', 'a1', 'first');
    const second = j.post('alice', 'a2', 'second, sequenced before a crash');
    const third = j.post('alice', 'a3', 'third');
    // After the crash, #3 was a lost id and the old #4 is gone (a store that lost its last row, say).
    const lost = j.lost({
      sequence_id: 3,
      message_id: 'lost-3',
      content: 'sequence id 3 was handed out before a crash and not stored',
      timestamp: second.timestamp,
    });
    const older = writeJournal(dir, 'older.jsonl', [join, first, second, third]);
    const newer = writeJournal(dir, 'newer.jsonl', [join, first, lost]);
    const out = await runCli(['diff', older, newer]);
    expect(out.code).toBe(5);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[1]).toMatch(/^< {7}3 {2}09:30:03\.000 {2}alice \(human\) +text +second, sequenced before a crash$/);
    expect(lines[2]).toMatch(/^> {7}3 {2}09:30:03\.000 {2}system \(system\) +lost +sequence id 3 was handed out/);
    expect(lines[3]).toMatch(/^ {11}changed: message_id "a2" → "lost-3"; sender_id "alice" → "system"; sender_type "human" → "system"; /);
    expect(lines[4]).toMatch(/^- {7}4 {2}09:30:04\.000 {2}alice \(human\) +text +third$/);
    expect(lines[5]).toBe(
      `diff FOUND: conversation conv-1: 4 records in ${older}, 3 in ${newer}: 0 added, 1 removed, 0 changed, 1 replaced`,
    );
  });

  it('names a change of the stored conversation and of where the held history starts first', async () => {
    const j = journalBuilder();
    const records = [j.join('alice'), j.post('alice', 'a1', 'hi')];
    const meta = {
      conversation_id: 'conv-1',
      title: 'plans',
      created_at: '2026-01-01T09:30:00.000Z',
      created_by: 'alice',
      settings: {},
      status: 'active' as const,
    };
    const write = (name: string, header: object) => {
      const file = path.join(dir, name);
      fs.writeFileSync(file, [header, ...records].map((l) => `${toJsonLine(l)}\n`).join(''));
      return file;
    };
    const older = write('meta-old.jsonl', makeHeader('conv-1', new Date(), meta));
    const newer = write('meta-new.jsonl', makeHeader('conv-1', new Date(), { ...meta, title: 'trip', status: 'closed' }, 2));
    const out = await runCli(['diff', older, newer]);
    expect(out.code).toBe(5);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[1]).toBe(
      `diff FOUND: conversation conv-1: 2 records in ${older}, 2 in ${newer}: 0 added, 0 removed, 0 changed, 0 replaced; the conversation changed`,
    );
    expect(lines[0]).toBe('~ conversation conv-1: title "plans" → "trip"; status "active" → "closed"; history_starts_at 1 → 2');
    const json = parseJsonLines((await runCli(['diff', older, newer, '--json'])).stdout);
    expect(json[1]).toMatchObject({ type: 'diff_summary', conversation_changed: true });
    expect(json[0]).toEqual({
      type: 'diff',
      change: 'conversation',
      conversation_id: 'conv-1',
      fields: [
        { field: 'title', old: 'plans', new: 'trip' },
        { field: 'status', old: 'active', new: 'closed' },
        { field: 'history_starts_at', old: 1, new: 2 },
      ],
    });
  });

  it('refuses two conversations, a journal out of order, and a missing file (exit 1, coded)', async () => {
    const a = writeJournal(dir, 'a.jsonl', [journalBuilder('conv-a').join('alice')]);
    const b = writeJournal(dir, 'b.jsonl', [journalBuilder('conv-b').join('alice')]);
    const two = await runCli(['diff', a, b]);
    expect(two).toMatchObject({ code: 1, stdout: '' });
    expect(two.stderr).toBe(
      `replay: CONFIG_ERR_INVALID: ${a} holds conversation conv-a and ${b} holds conv-b: diff compares two reads of one conversation\n`,
    );
    const j = journalBuilder('conv-a');
    const x = j.join('alice');
    const y = j.post('alice', 'a1', 'one');
    const shuffled = writeJournal(dir, 'shuffled.jsonl', [y, x]);
    const order = await runCli(['diff', a, shuffled]);
    expect(order.code).toBe(1);
    expect(order.stderr).toContain(
      `replay: CHAT_ERR_INVALID_MESSAGE: ${shuffled}: #1 comes after #2: diff reads journals in sequence order`,
    );
    // A line that is not a record names its file: of two, "line 2: not valid JSON" did not say which.
    const torn = path.join(dir, 'torn.jsonl');
    fs.writeFileSync(torn, `${fs.readFileSync(a, 'utf8').split('\n')[0]}\n{"message_id":"join-1",\n`);
    const malformed = await runCli(['diff', a, torn]);
    expect(malformed).toMatchObject({ code: 1, stdout: '' });
    expect(malformed.stderr).toBe(`replay: CHAT_ERR_INVALID_MESSAGE: ${torn}: line 2: not valid JSON\n`);
    const missing = await runCli(['diff', a, path.join(dir, 'nope.jsonl')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^replay: CONFIG_ERR_READ: cannot read .*nope\.jsonl/);
  });
});

describe('replay diff: what is the same record read two ways', () => {
  test('a record whose metadata keys come in another order (PostgreSQL jsonb against SQLite) is no change', () => {
    const base = {
      message_id: 'join-1',
      conversation_id: 'c',
      sequence_id: 1,
      sender_id: 'system',
      sender_type: 'system',
      message_type: 'join',
      content: 'Bob joined',
      timestamp: '2026-01-01T00:00:00.000Z',
    } as const;
    const fromSqlite = { ...base, metadata: { participant: { participant_id: 'bob', participant_type: 'human', display_name: 'Bob' } } };
    const fromPostgres = { ...base, metadata: { participant: { display_name: 'Bob', participant_type: 'human', participant_id: 'bob' } } };
    expect(compareRecords(fromSqlite as ChatMessage, fromPostgres as ChatMessage)).toBeUndefined();
    const renamed = { ...base, metadata: { participant: { display_name: 'Robert', participant_type: 'human', participant_id: 'bob' } } };
    const change = compareRecords(fromSqlite as ChatMessage, renamed as ChatMessage);
    expect(change && 'fields' in change ? change.fields.map((f) => f.field) : change).toEqual(['metadata.participant']);
  });
});
