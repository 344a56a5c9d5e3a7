/**
 * The chat page's conversation list follows the server's order (most recent activity first) and shows each
 * conversation's latest message under its name ("You: …" for the user's own). Chromium against the real server
 * (dev auth). Chromium: ./chromium.ts.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-list-preview-browser.test');
const session = pageSessions();

maybe(
  'a conversation with a new message moves to the top, with "<sender>: <text>" under its name',
  async () => {
    const { stack, browser, origin } = await session();
    // Ids rank a-older first on an equal millisecond too, so the order asserted is the activity order.
    await stack.createConversation('a-older', ['alice', 'bob']);
    await stack.createConversation('b-newer', ['alice']);
    await stack.runtime.post('a-older', { sender_id: 'bob', message_id: 'm1', content: 'see you at eight' });
    await stack.runtime.post('b-newer', { sender_id: 'alice', message_id: 'm0', content: 'note to self' });
    await stack.runtime.post('a-older', { sender_id: 'bob', message_id: 'm2', content: `${'x'.repeat(300)}` });
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=b-newer`);
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#conversations li[data-id="a-older"] .preview');
    const ids = await page.locator('#conversations li').evaluateAll((items) => items.map((li) => (li as HTMLElement).dataset['id']));
    expect(ids).toEqual(['a-older', 'b-newer']);
    // The page knows no members of a titled conversation: the sender shows as its id. The server cut the 300 at 200.
    expect(await page.textContent('#conversations li[data-id="a-older"] .preview')).toBe(`bob: ${'x'.repeat(200)}…`);
    expect(await page.textContent('#conversations li[data-id="b-newer"] .preview')).toBe('You: note to self');
    expect(errors).toEqual([]);
  },
  60_000,
);
