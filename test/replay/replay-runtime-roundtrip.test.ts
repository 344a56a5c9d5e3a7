import fs from 'node:fs';
import path from 'node:path';
import type { ChatMessage } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { storeSource } from '../../bin/replay/journal-source';
import { runReplay } from '../../bin/replay/run-replay';
import { memorySink, parseJsonLines, recordConversation, recordedSqliteJournal, runCli } from './replay-fixtures';

const ids = (ms: readonly { sequence_id: number }[]) => ms.map((m) => m.sequence_id);
const shape = (m: Pick<ChatMessage, 'sequence_id' | 'message_type' | 'message_id' | 'sender_id'>) => [
  m.sequence_id,
  m.message_type,
  m.message_id,
  m.sender_id,
];

describe('replay CLI on a conversation recorded by the runtime (sqlite, echo agent)', () => {
  const journal = recordedSqliteJournal();

  it('exports JSONL, which then passes --check and --rerun, as does the store itself', async () => {
    const file = path.join(journal.dir, 'export.jsonl');
    const exported = await runCli(['export', journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '-o', file]);
    expect(exported).toMatchObject({ code: 0 });
    const lines = parseJsonLines(fs.readFileSync(file, 'utf8'));
    expect(lines[0]).toMatchObject({ format: 'nlweb-chat-journal', version: 1, conversation_id: journal.recorded.conversationId });
    expect(typeof lines[0].exported_at).toBe('string');
    const records = lines.slice(1) as unknown as ChatMessage[];
    expect(ids(records)).toEqual(Array.from({ length: records.length }, (_, i) => i + 1));
    // The fixture covers every record kind the rerun derives events from.
    expect(new Set(records.map((r) => r.message_type))).toEqual(
      new Set(['join', 'leave', 'mode_change', 'text', 'agent_job_started', 'redaction', 'edit']),
    );
    expect(records.some((r) => r.sender_type === 'ai')).toBe(true);

    const fromFile = await runCli(['replay', '--file', file, '--check', '--rerun']);
    expect(fromFile.stderr).toBe('');
    expect(fromFile.code).toBe(0);
    expect(fromFile.stdout).toContain(`check OK: conversation ${journal.recorded.conversationId}: ${records.length} records, 0 violations`);
    expect(fromFile.stdout).toContain(
      `rerun OK: conversation ${journal.recorded.conversationId}: ${records.length} records, ${records.length} compared, 0 divergences`,
    );

    const fromStore = await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '--rerun', '--json']);
    expect(fromStore.code).toBe(0);
    expect(parseJsonLines(fromStore.stdout)).toEqual([
      {
        type: 'rerun_summary',
        conversation_id: journal.recorded.conversationId,
        records: records.length,
        compared: records.length,
        divergences: 0,
        unshown: 0,
      },
    ]);

    // --json prints exactly the exported records.
    const json = await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '--json']);
    expect(parseJsonLines(json.stdout)).toEqual(records);
  });

  it('--as shows each participant exactly what their connections received, from join to leave', async () => {
    // Compared unfiltered: each subscription starts at the participant's join record, and the runtime hands a
    // leaver nothing after its own leave record (not even the mode change of the same step), as --as stops there.
    for (const who of ['alice', 'bob'] as const) {
      const out = await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '--as', who, '--json']);
      expect(out.code).toBe(0);
      const view = parseJsonLines(out.stdout) as unknown as ChatMessage[];
      expect(view.map(shape)).toEqual(journal.recorded.seen[who].map(shape));
    }
    // alice left and came back: her view skips what happened meanwhile (bob's second message and its answer).
    const alice = parseJsonLines(
      (await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '--as', 'alice', '--json'])).stdout,
    );
    expect(alice.map((m) => m.message_id)).not.toContain('b2');
    expect(alice.filter((m) => m.message_type === 'join' && m.sender_id === 'alice')).toHaveLength(2);
    // bob joined later: his view starts at his join record.
    const bob = parseJsonLines(
      (await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '--as', 'bob', '--json'])).stdout,
    );
    expect(bob[0]).toMatchObject({ message_type: 'join', sender_id: 'bob' });
    expect(bob.map((m) => m.message_id)).not.toContain('a1');
  });

  it('prints a readable timeline that shows the redaction marker', async () => {
    const out = await runCli([journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`]);
    expect(out.code).toBe(0);
    const lines = out.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^\s+SEQ\s+TIME\s+SENDER\s+TYPE\s+CONTENT$/);
    expect(lines[1]).toMatch(/^\s+1 {2}10:00:00\.000 {2}alice \(system\)\s+join\s+alice joined$/);
    expect(out.stdout).toMatch(/bob \(human\)\s+text\s+bob here⏎second line/);
    expect(out.stdout).toMatch(/bob \(human\)\s+text\s+\[redacted\]/);
    // Redaction replaced bob's own record (the echo agent's quote of it is a separate record).
    expect(lines.find((l) => /bob \(human\)/.test(l) && l.includes('[redacted]'))).not.toContain('secret');
    expect(lines.filter((l) => /bob \(human\)/.test(l)).join('\n')).not.toContain('secret');
    expect(out.stdout).toMatch(/echo \(ai\)\s+text\s+\[re #3\] echo: hello from alice/);
    // The multi-mode burst (bob's post and alice's) is answered in one turn: its start and answer name both posts.
    const burst = [/bob \(human\)\s+text\s+bob here/, /alice \(human\)\s+text\s+welcome bob/].map(
      (re) =>
        lines
          .find((l) => re.test(l))!
          .trim()
          .split(/\s+/)[0],
    );
    const answeredBoth = `[re #${burst[0]}, #${burst[1]}]`;
    expect(lines.find((l) => /agent_job_started/.test(l) && l.includes(answeredBoth))).toMatch(/Echo is answering$/);
    expect(lines.find((l) => /echo \(ai\)/.test(l) && l.includes(answeredBoth))).toMatch(/echo: bob here⏎second line⏎welcome bob$/);
  });

  it('an id that contradicts the export header is a usage error (CONFIG_ERR_INVALID, exit 1), nothing on stdout', async () => {
    const file = path.join(journal.dir, 'mismatch.jsonl');
    expect(await runCli(['export', journal.recorded.conversationId, '--storage', `sqlite:${journal.db}`, '-o', file])).toMatchObject({
      code: 0,
    });
    const out = await runCli(['c-other', '--file', file]);
    expect(out).toEqual({
      code: 1,
      stdout: '',
      stderr: `replay: CONFIG_ERR_INVALID: ${file} holds conversation ${journal.recorded.conversationId}, not c-other (leave the id out to read the file's)\n`,
    });
    // The id the header names, or none, reads it.
    expect((await runCli([journal.recorded.conversationId, '--file', file, '--check'])).code).toBe(0);
  });

  it('lists the stored conversations', async () => {
    const out = await runCli(['list', '--storage', `sqlite:${journal.db}`, '--json']);
    expect(out.code).toBe(0);
    expect(parseJsonLines(out.stdout)).toEqual([
      expect.objectContaining({ conversation_id: journal.recorded.conversationId, title: 'replay fixture', last_sequence_id: 23 }),
    ]);
  });
});

describe('replay on a conversation recorded in a MemoryStore (in-process)', () => {
  it('checks and re-runs clean, and the timeline lists every record', async () => {
    const store = new MemoryStore();
    await store.open();
    try {
      const { conversationId } = await recordConversation(store, 'c-mem');
      const total = await store.lastSequenceId(conversationId);
      const io = { stdout: memorySink(), stderr: memorySink() };
      const code = await runReplay(await storeSource(store, conversationId, false), { check: true, rerun: true, json: true }, io);
      expect(io.stderr.text()).toBe('');
      expect(code).toBe(0);
      expect(parseJsonLines(io.stdout.text())).toEqual([
        { type: 'check_summary', conversation_id: 'c-mem', records: total, violations: 0, unshown: 0 },
        { type: 'rerun_summary', conversation_id: 'c-mem', records: total, compared: total, divergences: 0, unshown: 0 },
      ]);
      const timeline = { stdout: memorySink(), stderr: memorySink() };
      expect(await runReplay(await storeSource(store, conversationId, false), {}, timeline)).toBe(0);
      expect(timeline.stdout.text().trimEnd().split('\n')).toHaveLength(total + 1);
    } finally {
      await store.close();
    }
  });
});
