/**
 * GET /chat/conversations (and /chat/my-conversations) by last activity: order, last_sequence_id and the
 * last_message preview, pages with an opaque cursor, bad limit/cursor, and records delivered but not yet stored.
 * Real server on port 0, real MemoryStore; the runtime's clock is injected so record times are exact.
 */
import { createSystemClock, type Clock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers/memory-store';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

/** The system clock's timers with a time the test sets: every record's timestamp is chosen, no two collide by chance. */
function settableClock(startMs = Date.UTC(2026, 5, 1)): Clock & { set(ms: number): void } {
  let now = startMs;
  return { ...createSystemClock(), now: () => now, set: (ms) => (now = ms) };
}

const T = Date.UTC(2026, 5, 1);
const at = (seconds: number): number => T + seconds * 1000;

interface ListBody {
  conversations: Array<Record<string, unknown> & { conversation_id: string; last_message: Record<string, unknown> | null }>;
  next_cursor: string | null;
}

async function list(h: Harness, user: string, query = '', path = '/chat/conversations'): Promise<ListBody> {
  const res = await h.request('GET', `${path}${query}`, user);
  if (res.status !== 200) throw new Error(`list answered ${res.status} ${JSON.stringify(res.body)}`);
  return res.body as ListBody;
}

const ids = (body: ListBody): string[] => body.conversations.map((c) => c.conversation_id);

async function post(h: Harness, conversationId: string, sender: string, content: string, messageId: string): Promise<void> {
  await h.runtime.post(conversationId, { sender_id: sender, message_id: messageId, content });
}

describe('GET /chat/conversations by last activity', () => {
  test('most recent activity first (else creation), last_sequence_id, a preview of the latest text, the meta fields kept', async () => {
    const clock = settableClock();
    const h = await startHarness({}, { runtimeClock: clock });
    clock.set(at(1));
    const first = await h.createConversation('alice', ['bob'], { conversation_id: 'first', title: 'First' });
    clock.set(at(2));
    await h.createConversation('alice', [], { conversation_id: 'second' });
    clock.set(at(3));
    await h.createConversation('alice', [], { conversation_id: 'third' });
    clock.set(at(10));
    await post(h, first, 'bob', 'hi alice', 'm1');
    for (const path of ['/chat/conversations', '/chat/my-conversations']) {
      const body = await list(h, 'alice', '', path);
      expect({ path, ids: ids(body), next_cursor: body.next_cursor }).toEqual({
        path,
        ids: ['first', 'third', 'second'],
        next_cursor: null,
      });
      const [top, third] = body.conversations;
      expect(top).toMatchObject({
        conversation_id: 'first',
        title: 'First',
        created_by: 'alice',
        status: 'active',
        created_at: new Date(at(1)).toISOString(),
        last_activity_at: new Date(at(10)).toISOString(),
        last_message: {
          sender_id: 'bob',
          sender_type: 'human',
          message_type: 'text',
          content: 'hi alice',
          content_truncated: false,
          timestamp: new Date(at(10)).toISOString(),
        },
      });
      expect(top.last_sequence_id).toBe((top.last_message as { sequence_id: number }).sequence_id);
      // Only its join record: activity at creation, no preview.
      expect(third).toMatchObject({ last_sequence_id: 1, last_activity_at: new Date(at(3)).toISOString(), last_message: null });
    }
  });

  test('a long preview is cut at 200 UTF-16 units, never in the middle of a surrogate pair', async () => {
    const h = await startHarness();
    const id = await h.createConversation('alice');
    await post(h, id, 'alice', `${'a'.repeat(199)}😀 and more`, 'long');
    const preview = (await list(h, 'alice')).conversations[0].last_message!;
    expect(preview.content).toBe('a'.repeat(199));
    expect(preview.content_truncated).toBe(true);
    await post(h, id, 'alice', `${'b'.repeat(198)}😀 and more`, 'fits');
    expect((await list(h, 'alice')).conversations[0].last_message!.content).toBe(`${'b'.repeat(198)}😀`);
  });

  test('pages: limit and next_cursor walk every conversation once; one moving to the top meanwhile is not repeated', async () => {
    const clock = settableClock();
    const h = await startHarness({}, { runtimeClock: clock });
    for (let i = 1; i <= 5; i++) {
      clock.set(at(i));
      await h.createConversation('alice', [], { conversation_id: `c${i}` });
    }
    const page1 = await list(h, 'alice', '?limit=2');
    expect(ids(page1)).toEqual(['c5', 'c4']);
    expect(typeof page1.next_cursor).toBe('string');
    // Between pages: c5 (already seen) and c2 (not yet seen) get messages.
    clock.set(at(20));
    await post(h, 'c5', 'alice', 'again', 'x1');
    await post(h, 'c2', 'alice', 'news', 'x2');
    const page2 = await list(h, 'alice', `?limit=2&cursor=${page1.next_cursor}`);
    expect(ids(page2)).toEqual(['c3', 'c1']);
    expect(page2.next_cursor).toBe(null);
    // A new walk from the top sees both at the top.
    expect(ids(await list(h, 'alice', '?limit=2'))).toEqual(['c2', 'c5']);
  });

  test('records delivered but not yet stored rank and preview the conversation (live state)', async () => {
    const held = new HeldAppends();
    const clock = settableClock();
    const h = await startHarness({}, { store: held, runtimeClock: clock });
    clock.set(at(1));
    await h.createConversation('alice', [], { conversation_id: 'older' });
    clock.set(at(2));
    await h.createConversation('alice', [], { conversation_id: 'newer' });
    held.hold();
    clock.set(at(30));
    await post(h, 'older', 'alice', 'not stored yet', 'live-1');
    expect(await held.lastStored('older')).toBe(1);
    for (const limit of [1, 2]) {
      const body = await list(h, 'alice', `?limit=${limit}`);
      expect(body.conversations[0]).toMatchObject({
        conversation_id: 'older',
        last_sequence_id: 2,
        last_activity_at: new Date(at(30)).toISOString(),
        last_message: { content: 'not stored yet', sequence_id: 2 },
      });
    }
    const second = await list(h, 'alice', `?limit=1&cursor=${(await list(h, 'alice', '?limit=1')).next_cursor}`);
    expect(ids(second)).toEqual(['newer']);
    held.release();
  });

  test('a big conversation lists 8 of its members (the preview sender first, then people, then agents) and participant_count', async () => {
    const h = await startHarness();
    const humans = Array.from({ length: 10 }, (_, i) => `h${i + 1}`);
    await h.createConversation('alice', humans, {
      conversation_id: 'big',
      participants: humans.map((id) => ({ participant_id: id, participant_type: 'human' })),
    });
    // Two agents join before the last human speaks: membership order is alice, h1..h10, then the agents.
    // AI participants posting over the API (no agent of their own in this harness).
    await h.runtime.join('big', { participant_id: 'bot1', participant_type: 'ai', external: true });
    await h.runtime.join('big', { participant_id: 'bot2', participant_type: 'ai', external: true });
    await post(h, 'big', 'h10', 'the last word', 'm1');
    const entry = (await list(h, 'alice')).conversations.find((c) => c.conversation_id === 'big')!;
    const listed = (entry.participants as Array<{ participant_id: string }>).map((p) => p.participant_id);
    expect(listed).toEqual(['h10', 'alice', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6']);
    expect(entry.participant_count).toBe(13);
    // The summary still has every member.
    const summary = await h.request('GET', '/chat/conversations/big', 'alice');
    expect((summary.body.participants as unknown[]).length).toBe(13);
  });

  test("each entry names the conversation's current members: a live one's from memory, a stored one's from the store", async () => {
    const clock = settableClock();
    const h = await startHarness({}, { runtimeClock: clock });
    clock.set(at(1));
    await h.createConversation('alice', ['bob', 'carol'], { conversation_id: 'live' });
    await h.runtime.leave('live', 'carol');
    // Written to the store only: the runtime has never loaded it, so its members are the store's.
    const member = (id: string, role: 'owner' | 'member', seq: number) => ({
      participant_id: id,
      participant_type: 'human' as const,
      display_name: id.toUpperCase(),
      role,
      joined_at_sequence: seq,
    });
    await h.store.createConversation(
      {
        conversation_id: 'stored',
        title: 'Conversation',
        created_at: new Date(at(0)).toISOString(),
        created_by: 'alice',
        settings: {},
        status: 'active',
      },
      [member('alice', 'owner', 1), member('dave', 'member', 2)],
    );
    expect(await h.runtime.listConversations('alice')).toHaveLength(2);
    const body = await list(h, 'alice');
    const membersOf = (id: string): unknown =>
      (
        body.conversations.find((c) => c.conversation_id === id)?.participants as Array<{ participant_id: string; display_name: string }>
      ).map((p) => `${p.participant_id}/${p.display_name}`);
    expect(ids(body)).toEqual(['live', 'stored']);
    expect(membersOf('live')).toEqual(['alice/alice', 'bob/bob']);
    expect(membersOf('stored')).toEqual(['alice/ALICE', 'dave/DAVE']);
    // The same records as the conversation's summary.
    const summary = await h.request('GET', '/chat/conversations/live', 'alice');
    expect(body.conversations[0]!.participants).toEqual((summary.body as { participants: unknown }).participants);
  });

  test('bad limit or cursor: 400 GATEWAY_ERR_BAD_REQUEST saying what is accepted', async () => {
    const h = await startHarness();
    await h.createConversation('alice');
    const refusals: Array<[string, string]> = [
      ['?limit=0', 'limit must be an integer from 1 to 200'],
      ['?limit=201', 'limit must be an integer from 1 to 200'],
      ['?limit=ten', 'limit must be an integer from 1 to 200'],
      ['?limit=1&limit=2', 'limit is given more than once'],
      ['?cursor=not-a-cursor', 'cursor is not a next_cursor this server gave out'],
      [`?cursor=${Buffer.from('{"v":2,"a":"x","c":"y"}').toString('base64url')}`, 'cursor is not a next_cursor this server gave out'],
      ['?cursor=%2F%2F', 'cursor is not a next_cursor this server gave out'],
      ['?cursor=a&cursor=b', 'cursor is given more than once'],
    ];
    for (const [query, message] of refusals) {
      for (const path of ['/chat/conversations', '/chat/my-conversations']) {
        const res = await h.request('GET', `${path}${query}`, 'alice');
        expect({ query, path, status: res.status, code: res.body.error, starts: String(res.body.message).startsWith(message) }).toEqual({
          query,
          path,
          status: 400,
          code: 'GATEWAY_ERR_BAD_REQUEST',
          starts: true,
        });
      }
    }
  });
});

/** A MemoryStore whose journal appends wait while held: records are delivered before they are stored. */
class HeldAppends extends MemoryStore {
  private gate: Promise<void> | undefined;
  private open_: (() => void) | undefined;

  hold(): void {
    this.gate = new Promise((resolve) => (this.open_ = resolve));
  }

  release(): void {
    this.open_?.();
    this.gate = undefined;
  }

  lastStored(conversationId: string): Promise<number> {
    return this.lastSequenceId(conversationId);
  }

  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    await this.gate;
    return super._appendMessages(conversationId, messages, fenceEpoch);
  }
}
