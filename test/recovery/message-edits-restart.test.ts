/**
 * A member's edit and delete survive a restart on the durable stores: after the runtime and the store are closed
 * and a new pair opens the same database, history reads the edited content with its marks, the `edit` record and
 * the deleted message's marker, and the restored conversation goes on (a second edit is edit 2). SQLite on a
 * temporary file, PostgreSQL on a fresh schema (127.0.0.1:5432, db test).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createChatRuntime, createCounterIds, createManualClock, type ChatRuntime, type ManualClock } from '../../actors';
import type { ChatStore } from '../../storage-providers/chat-store';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from '../storage/pg-helpers';

async function start(store: ChatStore, clock: ManualClock): Promise<ChatRuntime> {
  await store.open();
  return createChatRuntime({ config: { observability: { log_level: 'silent' } }, storage: store, clock, ids: createCounterIds('r') });
}

/** Edits and deletes on one runtime, closes it, then reads back on a new one over `reopen()`. */
async function editsSurviveRestart(makeStore: () => ChatStore): Promise<void> {
  const clock = createManualClock(Date.UTC(2026, 4, 1, 12, 0, 0));
  const first = makeStore();
  const runtime = await start(first, clock);
  try {
    await runtime.createConversation({
      conversation_id: 'c1',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
      autoJoinAgents: false,
    });
    const m1 = (await runtime.post('c1', { sender_id: 'alice', message_id: 'm1', content: 'hello' })).sequence_id;
    const b1 = (await runtime.post('c1', { sender_id: 'bob', message_id: 'b1', content: 'to be deleted' })).sequence_id;
    clock.advance(1000);
    expect((await runtime.edit('c1', 'alice', 'm1', 'hello, edited')).changed).toBe(true);
    expect((await runtime.redact('c1', { messageIds: ['b1'] }, 'bob')).redacted).toEqual([b1]);
    expect(m1).toBeLessThan(b1);
  } finally {
    await runtime.close();
    await first.close();
  }

  const second = makeStore();
  const again = await start(second, clock);
  try {
    const records = await again.readMessages('c1', 0, 100, 'bob');
    const m1 = records.find((m) => m.message_id === 'm1')!;
    expect(m1.content).toBe('hello, edited');
    expect(m1.metadata).toEqual({ edited: true, edited_at: '2026-05-01T12:00:01.000Z', edit_count: 1 });
    const edit = records.find((m) => m.message_type === 'edit')!;
    expect(edit).toMatchObject({ message_id: `edit-${m1.sequence_id}-1`, content: 'hello, edited' });
    expect(records.find((m) => m.message_id === 'b1')).toMatchObject({ content: '[redacted]', metadata: { redacted: true } });
    expect(records[records.length - 1]).toMatchObject({ message_type: 'redaction', metadata: { requested_by: 'bob' } });
    // The conversation goes on from what the store holds: the next edit is the second.
    const next = await again.edit('c1', 'alice', 'm1', 'hello, twice');
    expect(next.message.metadata).toMatchObject({ edit_count: 2 });
    expect((await again.readMessages('c1', 0, 100, 'alice')).filter((m) => m.message_type === 'edit')).toHaveLength(2);
  } finally {
    await again.close();
    await second.close();
  }
}

test('SQLite file: an edit and a delete survive a restart', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'edits-restart-'));
  try {
    await editsSurviveRestart(() => new SqliteStore({ path: join(dir, 'chat.db') }));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

const reachable = pgReachableSync();
describeWithPg(reachable)('PostgreSQL', () => {
  test('an edit and a delete survive a restart', async () => {
    const schema = uniqueSchema();
    try {
      await editsSurviveRestart(() => new PostgresStore({ url: PG_URL, poolSize: 2, schema }));
    } finally {
      await dropSchema(schema);
    }
  });
});
