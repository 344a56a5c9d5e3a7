/**
 * The chat page lists a user's 200 most recent conversations (one page of GET /chat/conversations) and reads the
 * older ones a page per click of "Show older conversations", following next_cursor; the 30 s refresh keeps what was
 * read below its first page, without dropping or repeating any. Chromium against the real server (dev auth), the
 * page's clock moved by the test. Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { LIST_REFRESH_INTERVAL_MS } from '../../client/web/list-refresh';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import type { RealStack } from './real-server';

const maybe = browserTest('chat-page-older-conversations-browser.test');
const session = pageSessions();

/** Three pages of the page's size: 200, 200, 50. */
const CONVERSATIONS = 450;

/** The whole list as the server ranks it now, read page by page over HTTP (as alice, three reads of her budget). */
async function serverOrder(origin: string): Promise<string[]> {
  const ids: string[] = [];
  let cursor: string | null = null;
  do {
    const query: string = cursor === null ? '' : `&cursor=${encodeURIComponent(cursor)}`;
    const res = await fetch(`${origin}/chat/conversations?user_id=alice&limit=200${query}`);
    const body = (await res.json()) as { conversations: { conversation_id: string }[]; next_cursor: string | null };
    ids.push(...body.conversations.map((c) => c.conversation_id));
    cursor = body.next_cursor;
  } while (cursor !== null);
  return ids;
}

async function listedIds(page: Page): Promise<string[]> {
  return page.locator('#conversations li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset['id']!));
}

async function createMany(stack: RealStack): Promise<void> {
  for (let i = 0; i < CONVERSATIONS; i += 1) await stack.createConversation(`c-${String(i).padStart(3, '0')}`, ['alice']);
}

maybe(
  'older conversations come a page per click, and the refresh neither drops nor repeats them',
  async () => {
    const { stack, browser, origin } = await session();
    await createMany(stack);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.clock.install({ time: 0 });
    await page.clock.pauseAt(1000);
    const listQueries: string[] = [];
    page.on('request', (r) => {
      const url = new URL(r.url());
      if (r.method() === 'GET' && url.pathname === '/chat/conversations')
        listQueries.push(url.searchParams.has('cursor') ? 'older' : 'first');
    });
    const listAnswered = (): Promise<unknown> =>
      page.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/chat/conversations');
    const older = page.locator('#older-conversations');

    const first = listAnswered();
    await page.goto(`${origin}/?user_id=alice`);
    await first;
    await page.waitForSelector('#conversations li');
    const order = await serverOrder(origin);
    expect(order).toHaveLength(CONVERSATIONS);
    expect(await listedIds(page)).toEqual(order.slice(0, 200));
    await expect(older.isVisible()).resolves.toBe(true);

    // One click, one page: the next 200 appended.
    const second = listAnswered();
    await older.click();
    await second;
    await page.waitForFunction(() => document.querySelectorAll('#conversations li').length === 400);
    expect(await listedIds(page)).toEqual(order.slice(0, 400));
    expect(listQueries).toEqual(['first', 'older']);

    // Meanwhile an old conversation (300th) gets a message and a new one is made: both go to the top at the refresh,
    // the rest of what was read stays below the refreshed first page, each once.
    await stack.runtime.post(order[299]!, { sender_id: 'alice', message_id: 'm1', content: 'back again' });
    await stack.createConversation('fresh', ['alice']);
    const refreshed = listAnswered();
    await page.clock.runFor(LIST_REFRESH_INTERVAL_MS);
    await refreshed;
    await page.waitForSelector('#conversations li[data-id="fresh"]');
    const now = await serverOrder(origin);
    expect(now.slice(0, 2).sort()).toEqual([order[299], 'fresh'].sort());
    const afterRefresh = await listedIds(page);
    expect(new Set(afterRefresh).size).toBe(afterRefresh.length);
    // Everything down to the last one read (order[399]), in the server's order: 400 read + the new one.
    expect(afterRefresh).toEqual(now.slice(0, now.indexOf(order[399]!) + 1));
    expect(afterRefresh).toHaveLength(401);
    await expect(older.isVisible()).resolves.toBe(true);

    // The last page: the list is whole and the button goes.
    const third = listAnswered();
    await older.click();
    await third;
    await page.waitForSelector('#older-conversations.hidden', { state: 'attached' });
    expect(await listedIds(page)).toEqual(now);
    // A later refresh keeps all 451; the last of them, given a message, moves to the top (which shows it was applied).
    const last = now[now.length - 1]!;
    await stack.runtime.post(last, { sender_id: 'alice', message_id: 'm2', content: 'the oldest speaks' });
    const again = listAnswered();
    await page.clock.runFor(LIST_REFRESH_INTERVAL_MS);
    await again;
    await page.waitForSelector(`#conversations li:first-child[data-id="${last}"]`);
    const final = await serverOrder(origin);
    expect(final[0]).toBe(last);
    expect(await listedIds(page)).toEqual(final);
    // Nothing was read without being asked for: a first page per load or refresh, an older one per click.
    expect(listQueries).toEqual(['first', 'older', 'first', 'older', 'first']);
    expect(errors).toEqual([]);
  },
  120_000,
);
