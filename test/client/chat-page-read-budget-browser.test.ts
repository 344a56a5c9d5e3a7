/**
 * The chat page's reads against the per-user read budget (chat.limits.reads_burst, docs/http-api.md): a page load
 * costs a fixed number of GETs however many conversations its user has, since the list names each conversation's
 * members (before, the page asked GET /chat/conversations/{id} per untitled conversation: 201 reads for 250 of them,
 * past the default burst of 200, so the open conversation's own reads were refused). And a read the budget refuses
 * is said as such and asked again after Retry-After. Real server (dev auth), Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import type { RealStack } from './real-server';

const maybe = browserTest('chat-page-read-budget-browser.test');
const session = pageSessions();

/** Untitled conversations of alice and one other person each, created in order (the last is the most recent). */
async function createUntitled(stack: RealStack, count: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    await stack.runtime.createConversation({
      conversation_id: `c${String(i).padStart(3, '0')}`,
      created_by: 'alice',
      participants: [
        { participant_id: 'alice', participant_type: 'human', display_name: 'alice', role: 'owner' },
        { participant_id: `friend${i}`, participant_type: 'human', display_name: `Friend ${i}`, role: 'member' },
      ],
    });
  }
}

/** Every GET the page sends under /chat, and the statuses answered. */
function countReads(page: Page): { readonly paths: string[]; readonly statuses: number[] } {
  const reads = { paths: [] as string[], statuses: [] as number[] };
  page.on('request', (req) => {
    const url = new URL(req.url());
    if (req.method() === 'GET' && url.pathname.startsWith('/chat/')) reads.paths.push(url.pathname);
  });
  page.on('response', (res) => {
    if (res.request().method() === 'GET' && new URL(res.url()).pathname.startsWith('/chat/')) reads.statuses.push(res.status());
  });
  return reads;
}

maybe(
  '250 untitled conversations: the page load reads 3 times and names every listed conversation by its other member',
  async () => {
    const { stack, browser, origin } = await session();
    await createUntitled(stack, 250);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    const reads = countReads(page);
    await page.goto(`${origin}/?user_id=alice&conversation=c249`);
    await page.waitForSelector('#state[data-state="open"]');
    // The 200 most recent (the page's one list request), each named by its other member, none by its id.
    await page.waitForFunction(() => document.querySelectorAll('#conversations li').length === 200);
    const items = await page.$$eval('#conversations li', (lis) =>
      lis.map((li) => [li.dataset['id'] ?? '', li.firstChild?.textContent ?? '']),
    );
    // Conversations created in one millisecond rank by id (docs/http-api.md), so only the pairing is checked.
    expect(items.map(([id, label]) => [id, label])).toEqual(items.map(([id]) => [id, `Friend ${Number(id!.slice(1))}`]));
    expect(new Set(items.map(([id]) => id)).size).toBe(200);
    expect(await page.textContent('#title')).toBe('Friend 249');

    // The list, the open conversation's summary and its latest history page: nothing per conversation.
    expect(reads.paths.sort()).toEqual(['/chat/conversations', '/chat/conversations/c249', '/chat/conversations/c249/messages']);
    expect(reads.statuses.every((s) => s === 200)).toBe(true);
    expect(errors).toEqual([]);
  },
  20_000,
);

maybe(
  'a read refused by the budget says so and is asked again after Retry-After',
  async () => {
    // One read at once, one a second: the list takes it, the open conversation's summary is refused (Retry-After 1).
    const { stack, browser, origin } = await session({ config: { chat: { limits: { reads_burst: 1, reads_per_second: 1 } } } });
    await createUntitled(stack, 1);
    const page = await browser.newPage();
    const reads = countReads(page);
    await page.goto(`${origin}/?user_id=alice&conversation=c000`);
    await page.waitForSelector('#errors:has-text("The server is limiting how often this page may read; trying again in 1 s.")');
    expect(await page.textContent('#errors')).toBe(
      'Could not open c000 yet. The server is limiting how often this page may read; trying again in 1 s.',
    );
    // Asked again once the budget refilled: the conversation opens and the line is cleared.
    await page.waitForSelector('#state[data-state="open"]', { timeout: 5_000 });
    expect(await page.textContent('#errors')).toBe('');
    expect(reads.statuses).toContain(429);
    expect(await page.textContent('#title')).toBe('Friend 0');
  },
  20_000,
);
