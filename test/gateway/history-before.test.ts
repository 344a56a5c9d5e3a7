import { MemoryStore } from '../../storage-providers';
import { settle } from '../actors/runtime-helpers';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

/**
 * GET .../messages?before=: the page of records just before an id, newest last, for a chat view that opens at
 * the latest messages and scrolls back (and does not replay a long conversation from its first record).
 */
describe('history pages backwards', () => {
  async function conversationWith(h: Harness, count: number): Promise<{ conv: string; ids: number[] }> {
    const conv = await h.createConversation('alice', ['bob']);
    const ids: number[] = [];
    for (let i = 0; i < count; i++) {
      const res = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: `m${i}`, content: `m${i}` });
      ids.push(res.body.sequence_id as number);
    }
    return { conv, ids };
  }
  const page = (h: Harness, conv: string, query: string, user = 'alice') =>
    h.request('GET', `/chat/conversations/${conv}/messages?${query}`, user);
  const seqs = (body: { messages: { sequence_id: number }[] }) => body.messages.map((m) => m.sequence_id);

  test('the latest page, then older pages until the first record; every id once, in order', async () => {
    const h = await startHarness();
    const { conv, ids } = await conversationWith(h, 12);
    const last = ids.at(-1)!;

    // A `before` past the end is the latest page.
    const latest = await page(h, conv, 'before=999999999&limit=5');
    expect(latest.status).toBe(200);
    expect(seqs(latest.body)).toEqual([last - 4, last - 3, last - 2, last - 1, last]);
    expect(latest.body).toMatchObject({ next_before: last - 4, has_more: true, last_sequence_id: last });

    const seen = [...seqs(latest.body)];
    let before = latest.body.next_before as number;
    let more = latest.body.has_more as boolean;
    while (more) {
      const older = await page(h, conv, `before=${before}&limit=5`);
      expect(older.status).toBe(200);
      seen.unshift(...seqs(older.body));
      before = older.body.next_before;
      more = older.body.has_more;
    }
    // Everything from the conversation's first record (the creation's join records included), each once.
    expect(seen).toEqual(Array.from({ length: last }, (_, i) => i + 1));
    expect(before).toBe(1);
  });

  test('before=1 is an empty page with nothing older; bad combinations and values are 400', async () => {
    const h = await startHarness();
    const { conv } = await conversationWith(h, 3);
    const empty = await page(h, conv, 'before=1');
    expect(empty.body).toMatchObject({ messages: [], next_before: 1, has_more: false });
    const both = await page(h, conv, 'before=3&after=1');
    expect(both.status).toBe(400);
    expect(both.body).toMatchObject({ error: 'GATEWAY_ERR_BAD_REQUEST' });
    expect(both.body.message).toContain('before');
    expect((await page(h, conv, 'before=0')).status).toBe(400);
    expect((await page(h, conv, 'before=-2')).status).toBe(400);
    expect((await page(h, conv, 'before=3', 'mallory')).status).toBe(403);
  });

  test('over ids a bounded memory journal dropped, the oldest page says so and has nothing older', async () => {
    const store = new MemoryStore({ maxRecordsPerConversation: 10 });
    const h = await startHarness({ chat: { cache: { recent_messages: 2 } } }, { store });
    const { conv, ids } = await conversationWith(h, 25);
    while ((await store.lastSequenceId(conv)) < ids.at(-1)!) await settle();
    const oldest = (await store.readMessages(conv, 0, 1))[0]!.sequence_id;

    const reaching = await page(h, conv, `before=${oldest + 3}&limit=10`);
    expect(seqs(reaching.body)).toEqual([oldest, oldest + 1, oldest + 2]);
    // `dropped` as on a forward page: the page's range (from the id `limit` before `before`) up to the last id not held.
    expect(reaching.body).toMatchObject({ has_more: false, next_before: oldest, dropped: { from: oldest + 3 - 10, to: oldest - 1 } });
  });
});
