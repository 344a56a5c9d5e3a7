import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { MemoryStore, SqliteStore } from '../../storage-providers';
import { settle } from '../actors/runtime-helpers';
import { deleteSqliteRecords, storeWithEmptiedC1, storeWithLostTail } from '../storage/journal-damage';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

/**
 * GET .../messages over ids a bounded memory journal dropped says so: `dropped: {from, to}` names the
 * ids after `after` the server no longer holds, so a reader can tell a trimmed history from a hole.
 */
describe('history page over a bounded memory journal', () => {
  test('the first page names the dropped ids; a page inside the held range has no `dropped`', async () => {
    const store = new MemoryStore({ maxRecordsPerConversation: 10 });
    // A small cache, so the oldest records are read from the (trimmed) journal, not from memory.
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } }, { store });
    const conv = await h.createConversation('alice');
    let last = 0;
    for (let i = 0; i < 25; i++) {
      const res = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: `m${i}`, content: `m${i}` });
      expect(res.status).toBe(201);
      last = res.body.sequence_id as number;
    }
    while ((await store.lastSequenceId(conv)) < last) await settle(); // every record stored (and the journal trimmed)
    const oldest = (await store.readMessages(conv, 0, 1))[0].sequence_id;
    expect(oldest).toBeGreaterThan(1);

    const first = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=3`, 'alice');
    expect(first.status).toBe(200);
    expect(first.body.messages.map((m: { sequence_id: number }) => m.sequence_id)).toEqual([oldest, oldest + 1, oldest + 2]);
    expect(first.body).toMatchObject({ dropped: { from: 1, to: oldest - 1 }, next_after: oldest + 2, has_more: true });

    const inside = await h.request('GET', `/chat/conversations/${conv}/messages?after=${oldest + 2}&limit=3`, 'alice');
    expect(inside.body.messages[0].sequence_id).toBe(oldest + 3);
    expect(inside.body).not.toHaveProperty('dropped');
  });

  test('a conversation whose every record was dropped: one page naming them all, paging ends', async () => {
    const store = await storeWithEmptiedC1();
    expect(await store.readMessages('c1', 0, 100)).toEqual([]);
    // The server loads c1 cold: its cache is empty, like a conversation passivated while it was trimmed.
    const h = await startHarness({}, { store });

    const page = await h.request('GET', '/chat/conversations/c1/messages?after=0', 'alice');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ messages: [], dropped: { from: 1, to: 10 }, next_after: 10, has_more: false, last_sequence_id: 10 });
  });
});

/**
 * Only a store that drops records on purpose makes a page carry `dropped`: ids missing from a SQLite
 * file (rows deleted behind its back) are a hole, which the page passes over without naming it.
 */
describe('history page over a hole in a durable journal', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-history-hole-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('the page starts at the next held record and has no `dropped`', async () => {
    const file = path.join(dir, 'chat.db');
    const store = new SqliteStore({ path: file });
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } }, { store });
    const conv = await h.createConversation('alice');
    let last = 0;
    for (let i = 0; i < 10; i++)
      last = (await h.runtime.post(conv, { sender_id: 'alice', message_id: `m${i}`, content: `m${i}` })).sequence_id;
    while ((await store.lastSequenceId(conv)) < last) await settle();
    deleteSqliteRecords(file, conv, 4);

    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=3`, 'alice');
    expect(page.status).toBe(200);
    expect(page.body.messages.map((m: { sequence_id: number }) => m.sequence_id)).toEqual([5, 6, 7]);
    expect(page.body).toMatchObject({ next_after: 7, has_more: true, last_sequence_id: last });
    expect(page.body).not.toHaveProperty('dropped');
  });
});

/**
 * A hole at the end of the journal (ids sequenced, none held after them: here a store that lost 18..20 of
 * c1, loaded cold) used to answer an empty page with next_after = after and has_more: true for ever, so a
 * reader paging on next_after asked again and again. The page that reaches the hole covers it: next_after is
 * its end (the conversation's last id), has_more false. The ids are not `dropped`: the reader sees them
 * missing (next_after past its last record), as the replay CLI's --check does.
 */
describe('history page over a hole at the end of the journal', () => {
  test('paging on next_after ends at last_sequence_id; the hole is not named dropped', async () => {
    const store = await storeWithLostTail(20, 17);
    const h = await startHarness({ chat: { cache: { recent_messages: 5 } } }, { store });
    const pages: { seqs: number[]; next_after: number; has_more: boolean }[] = [];
    let after = 10;
    while (pages.length < 5) {
      const page = await h.request('GET', `/chat/conversations/c1/messages?after=${after}&limit=5`, 'alice');
      expect(page.status).toBe(200);
      expect(page.body).not.toHaveProperty('dropped');
      expect(page.body.last_sequence_id).toBe(20);
      const { next_after, has_more } = page.body as { next_after: number; has_more: boolean };
      pages.push({ seqs: page.body.messages.map((m: { sequence_id: number }) => m.sequence_id), next_after, has_more });
      if (!has_more) break;
      after = next_after;
    }
    expect(pages).toEqual([
      { seqs: [11, 12, 13, 14, 15], next_after: 15, has_more: true },
      { seqs: [16, 17], next_after: 17, has_more: true },
      { seqs: [], next_after: 20, has_more: false },
    ]);
    const atTheHole = await h.request('GET', '/chat/conversations/c1/messages?after=17', 'alice');
    expect(atTheHole.body).toMatchObject({ messages: [], next_after: 20, has_more: false, last_sequence_id: 20 });
  });
});
