/**
 * How the chat page merges the pages of GET /chat/conversations (client/web/conversation-pages.ts): the refreshed
 * first page over what older pages brought. The page in Chromium: chat-page-older-conversations-browser.test.ts.
 */
import type { ConversationMeta } from '../../client/web/conversation-list';
import { compareRank, CONVERSATION_PAGE_SIZE, createConversationPages } from '../../client/web/conversation-pages';
import { MAX_CONVERSATION_PAGE } from '../../gateway/conversation-list-view';
import { compareActivity } from '../../storage-providers/conversation-activity';

/** A conversation last active at second `at` of the day (larger: more recent). */
const conv = (id: string, at: number): ConversationMeta => ({
  conversation_id: id,
  title: id,
  last_activity_at: new Date(Date.UTC(2026, 0, 1, 0, 0, at)).toISOString(),
});
const ids = (list: readonly ConversationMeta[]): string[] => list.map((c) => c.conversation_id);

describe('conversation pages', () => {
  test('a first page is the list; a server without next_cursor has nothing older', () => {
    const pages = createConversationPages();
    pages.refreshed({ conversations: [conv('a', 9), conv('b', 8)], next_cursor: 'after-b' });
    expect(ids(pages.listed)).toEqual(['a', 'b']);
    expect(pages.olderCursor).toBe('after-b');
    pages.refreshed({ conversations: [conv('a', 9)] });
    expect(ids(pages.listed)).toEqual(['a']);
    expect(pages.olderCursor).toBeNull();
  });

  test('older pages append; a refresh keeps them below its first page, drops what left from within it, repeats none', () => {
    const pages = createConversationPages();
    pages.refreshed({ conversations: [conv('b', 10), conv('a', 9), conv('c', 7)], next_cursor: 'after-c' });
    expect(pages.appendOlder('after-c', { conversations: [conv('d', 6), conv('e', 5)], next_cursor: 'after-e' })).toBe(true);
    expect(ids(pages.listed)).toEqual(['b', 'a', 'c', 'd', 'e']);
    // d got a message (now first), n is new, b was left: the first page is d, n, a. b ranked above a, so it would be
    // on it: gone. c slid below it and stays, as does e.
    pages.refreshed({ conversations: [conv('d', 20), conv('n', 19), conv('a', 9)], next_cursor: 'after-a' });
    expect(ids(pages.listed)).toEqual(['d', 'n', 'a', 'c', 'e']);
    // The walk goes on from where the older pages ended, not from the first page's end.
    expect(pages.olderCursor).toBe('after-e');
    expect(pages.appendOlder('after-e', { conversations: [conv('f', 4)], next_cursor: null })).toBe(true);
    expect(ids(pages.listed)).toEqual(['d', 'n', 'a', 'c', 'e', 'f']);
    expect(pages.olderCursor).toBeNull();
    // Everything read: a refresh keeps the rest and still offers nothing older.
    pages.refreshed({ conversations: [conv('e', 30), conv('d', 20), conv('n', 19)], next_cursor: 'after-n' });
    expect(ids(pages.listed)).toEqual(['e', 'd', 'n', 'a', 'c', 'f']);
    expect(pages.olderCursor).toBeNull();
  });

  test('a first page reaching past what was read replaces it all and continues from its own end', () => {
    const pages = createConversationPages();
    pages.refreshed({ conversations: [conv('a', 9), conv('b', 8)], next_cursor: 'after-b' });
    pages.appendOlder('after-b', { conversations: [conv('c', 7)], next_cursor: 'after-c' });
    // b and c were left: the first page now ends below c.
    pages.refreshed({ conversations: [conv('a', 9), conv('d', 6), conv('e', 5)], next_cursor: 'after-e' });
    expect(ids(pages.listed)).toEqual(['a', 'd', 'e']);
    expect(pages.olderCursor).toBe('after-e');
  });

  test('an older page asked before a refresh moved the walk is ignored', () => {
    const pages = createConversationPages();
    pages.refreshed({ conversations: [conv('a', 9)], next_cursor: 'after-a' });
    pages.refreshed({ conversations: [conv('b', 3)], next_cursor: 'after-b' });
    expect(pages.appendOlder('after-a', { conversations: [conv('b', 3)], next_cursor: 'after-b' })).toBe(false);
    expect(ids(pages.listed)).toEqual(['b']);
  });

  test("CONVERSATION_PAGE_SIZE is the server's largest page (a larger limit is refused with 400)", () => {
    expect(CONVERSATION_PAGE_SIZE).toBe(MAX_CONVERSATION_PAGE);
  });

  test("compareRank orders as the server's compareActivity", () => {
    const sample = [conv('a', 1), conv('b', 1), conv('B', 1), conv('a', 2), conv('é', 2), conv('z', 0)];
    for (const x of sample) {
      for (const y of sample) {
        const server = compareActivity(
          { activityAt: x.last_activity_at!, conversationId: x.conversation_id },
          { activityAt: y.last_activity_at!, conversationId: y.conversation_id },
        );
        expect(Math.sign(compareRank(x, y))).toBe(Math.sign(server));
      }
    }
  });

  test('ids on a tie rank by code point, as the server: one above U+FFFF after one in U+E000-U+FFFF', () => {
    // '😀' (U+1F600) is the pair D83D DE00 in UTF-16, whose first unit is below U+FF21: `<` put it first.
    const emoji = conv('x\u{1F600}', 5);
    const fullwidth = conv('x\uFF21', 5);
    const privateUse = conv('x\uE000', 5);
    expect(compareRank(fullwidth, emoji)).toBeLessThan(0);
    expect(compareRank(emoji, fullwidth)).toBeGreaterThan(0);
    expect(compareRank(privateUse, emoji)).toBeLessThan(0);
    const sample = [emoji, fullwidth, privateUse, conv('x', 5), conv('x\uD7FF', 5), conv('x\u{10000}', 5)];
    for (const x of sample) {
      for (const y of sample) {
        const server = compareActivity(
          { activityAt: x.last_activity_at!, conversationId: x.conversation_id },
          { activityAt: y.last_activity_at!, conversationId: y.conversation_id },
        );
        expect([x.conversation_id, y.conversation_id, Math.sign(compareRank(x, y))]).toEqual([
          x.conversation_id,
          y.conversation_id,
          Math.sign(server),
        ]);
      }
    }
    // The merge relies on it: the server's first page ends at the U+FF21 id, so the emoji id read before ranks below
    // it and is kept; with `<` it ranked inside the page and was dropped as gone.
    const pages = createConversationPages();
    pages.refreshed({ conversations: [conv('a', 9), fullwidth], next_cursor: 'after-ff21' });
    expect(pages.appendOlder('after-ff21', { conversations: [emoji], next_cursor: null })).toBe(true);
    pages.refreshed({ conversations: [conv('b', 9), fullwidth], next_cursor: 'after-ff21' });
    expect(ids(pages.listed)).toEqual(['b', 'x\uFF21', 'x\u{1F600}']);
  });
});
