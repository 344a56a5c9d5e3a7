import path from 'node:path';
import fs from 'node:fs';
import { createChatRuntime } from '../../actors';
import type { ConversationRegistryRuntime } from '../../actors/chat-runtime';
import { SqliteStore } from '../../storage-providers';
import { HeldSqliteStore, makeTmpDir, outputCollector, within } from './recovery-helpers';

/**
 * Regression: records are delivered before they are stored, so ids the previous process delivered but
 * never stored used to be handed out again after a crash (a client that saw them then got different
 * records under ids it already had). The sequence reservation (actors/sequence-lease.ts) prevents it:
 * the next process marks those ids 'lost' and continues after them.
 */
describe('sequence ids delivered but not stored before a crash', () => {
  let dir: string;
  const runtimes: ConversationRegistryRuntime[] = [];
  const stores: SqliteStore[] = [];

  beforeEach(() => {
    dir = makeTmpDir();
  });
  afterEach(async () => {
    for (const r of runtimes.splice(0)) await r.close({ deadlineMs: 50 });
    for (const s of stores.splice(0)) await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('are not handed out again by the next process; they are journaled as lost', async () => {
    const file = path.join(dir, 'chat.db');
    // The restarted process is the same server (same instance id, as the server binary's host:port default gives):
    // it takes the conversation back at once instead of waiting for the dead process's claim to expire.
    const config = { observability: { log_level: 'silent' as const }, chat: { ownership: { instance_id: 'server-1' } } };
    const firstStore = new HeldSqliteStore({ path: file });
    await firstStore.open();
    stores.push(firstStore);
    const first = await createChatRuntime({ config, storage: firstStore });
    runtimes.push(first);
    await first.createConversation({
      conversation_id: 'c',
      created_by: 'alice',
      participants: [{ participant_id: 'bob', participant_type: 'human' }],
    });
    const stored = await first.post('c', { sender_id: 'alice', message_id: 'm1', content: 'stored' });
    await within(stored.whenPersisted, 10_000, 'm1 stored');
    const bob = outputCollector();
    await first.subscribe('c', 'bob', bob.listener);

    // Delivered to bob, never stored: the process dies with these writes pending.
    firstStore.held = true;
    await first.post('c', { sender_id: 'alice', message_id: 'm2', content: 'seen by bob, lost' });
    await first.post('c', { sender_id: 'alice', message_id: 'm3', content: 'seen by bob, lost too' });
    const bobSaw = bob.messages[bob.messages.length - 1].sequence_id;
    expect(bobSaw).toBe(stored.sequence_id + 2);

    const secondStore = new SqliteStore({ path: file });
    await secondStore.open();
    stores.push(secondStore);
    const second = await createChatRuntime({ config, storage: secondStore });
    runtimes.push(second);
    const next = await second.post('c', { sender_id: 'alice', message_id: 'm4', content: 'after the restart' });
    expect(next.sequence_id).toBeGreaterThan(bobSaw);
    await within(next.whenPersisted, 10_000, 'm4 stored');
    const journal = await secondStore.readMessages('c', stored.sequence_id, 1000);
    expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => stored.sequence_id + 1 + i));
    expect(journal.filter((m) => m.sequence_id <= bobSaw).every((m) => m.message_type === 'lost')).toBe(true);
  });
});
