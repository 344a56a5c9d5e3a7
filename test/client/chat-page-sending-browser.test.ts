/**
 * What the chat page shows of the user's own messages before the server has them: at once, greyed "sending…",
 * replaced by the sequenced record when it arrives; a refused one stays, marked "not sent: <why>", its text
 * restorable; the unconfirmed count is always right, and leaving the page with unsent messages asks first.
 * Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions, type PageSession } from './page-session';

const maybe = browserTest('chat-page-sending-browser.test');
const session = pageSessions();

async function openAsAlice(s: PageSession): Promise<Page> {
  await s.stack.createConversation('conv', ['alice']);
  const page = await s.browser.newPage();
  await page.goto(`${s.origin}/?user_id=alice&conversation=conv`);
  await page.waitForSelector('#state[data-state="open"]');
  return page;
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

maybe(
  'a message sent while disconnected shows at once as "sending…", then as its record; the count follows',
  async () => {
    const s = await session();
    const page = await openAsAlice(s);
    const errors = collectErrors(page);
    await s.stack.stopServer();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    await send(page, 'written while away');

    const pending = page.locator('#messages li.mine.pending');
    await pending.waitFor();
    expect(await pending.locator('.text').textContent()).toBe('written while away');
    expect(await pending.locator('.status').textContent()).toBe('sending…');
    expect(await page.textContent('#pending')).toBe('1 unconfirmed');
    expect(await page.inputValue('#input')).toBe('');

    await s.stack.startServer();
    // A DOM click, not page.click: the client's own backoff may reconnect first and hide the button, and
    // page.click would then wait for it to show again. Pressed after that, "retry now" does nothing.
    await page.$eval('#retry', (b) => (b as HTMLButtonElement).click());
    const record = page.locator('#messages li.mine[data-seq]:not(.pending)');
    await record.waitFor();
    expect(await record.locator('.text').textContent()).toBe('written while away');
    expect(await page.locator('#messages li.pending').count()).toBe(0);
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    // Shown once: the pending line became the record, it was not added next to it.
    expect(await page.locator('#messages li.mine').count()).toBe(1);
    // Attempts while the server is down fail (refused; reset when one meets the server as it stops).
    expect(errors.filter((e) => !/ERR_CONNECTION_(REFUSED|RESET)/.test(e))).toEqual([]);
  },
  60_000,
);

maybe(
  'a refused message stays, marked "not sent" with the reason, and its text can be taken back to the input',
  async () => {
    const s = await session();
    const page = await openAsAlice(s);
    const tooLong = 'x'.repeat(10_001);
    await send(page, tooLong);

    const refused = page.locator('#messages li.mine.refused');
    await refused.waitFor();
    // The reason, in words (refusalSentence), not only that the content was refused. The client refuses it itself,
    // against the limits the server's connected frame announced, before sending (docs/client.md, Message size).
    expect(await refused.locator('.reason').textContent()).toBe(
      'not sent: The message is too long: at most 10,000 characters fit in one message.',
    );
    expect(await refused.locator('.reason').getAttribute('title')).toBe(
      "CLIENT_MESSAGE_TOO_LARGE: not sent: content is 10001 characters, over the server's max_message_length (10000)",
    );
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    // The bubble says it: the error line does not repeat it.
    expect(await page.textContent('#errors')).toBe('');

    await refused.locator('button.edit').click();
    expect(await page.inputValue('#input')).toBe(tooLong);
    expect(await refused.count()).toBe(0);
    expect(await page.locator('#messages li.mine').count()).toBe(0);
  },
  60_000,
);

maybe(
  'leaving the page with an unsent message asks first; with everything sent it does not',
  async () => {
    const s = await session();
    const page = await openAsAlice(s);
    await s.stack.stopServer();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    await send(page, 'not yet sent');
    await page.waitForSelector('#messages li.pending');

    // Leaving by navigation (Chromium asks on that; a page closed by the harness is closed without asking).
    const asked = new Promise<string>((resolve) =>
      page.once('dialog', (d) => {
        resolve(d.type());
        void d.dismiss();
      }),
    );
    const stayed = await page.goto('about:blank').then(
      () => false,
      () => true,
    );
    expect(await asked).toBe('beforeunload');
    expect(stayed).toBe(true);
    expect(page.url()).toContain('conversation=conv');

    await s.stack.startServer();
    // A DOM click, not page.click: the client's own backoff may reconnect first and hide the button, and
    // page.click would then wait for it to show again. Pressed after that, "retry now" does nothing.
    await page.$eval('#retry', (b) => (b as HTMLButtonElement).click());
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    // A second question would be accepted (so the test ends), but noted.
    const askedAgain: string[] = [];
    page.on('dialog', (d) => {
      askedAgain.push(d.type());
      void d.accept();
    });
    await page.goto('about:blank');
    expect(askedAgain).toEqual([]);
  },
  60_000,
);

// Found pasting 200,000 characters into the page: the 64 KiB frame limit closed the socket (1009, fatal), so the page
// ended "closed" with the message marked "The connection was closed" and "send again" offered. The server's
// chat.limits.max_message_length (mountWebClient's maxMessageLength) is now checked before anything is sent.
maybe(
  'a message longer than the server allows is refused in the page, its text kept in the input; the connection stays open',
  async () => {
    const s = await session({ page: { maxMessageLength: 100 } });
    const page = await openAsAlice(s);
    const errors = collectErrors(page);
    const tooLong = 'x'.repeat(1_101);
    await send(page, tooLong);
    expect(await page.textContent('#errors')).toBe(
      'This message is 1,101 characters long; at most 100 fit in one message. Shorten or split it.',
    );
    expect(await page.inputValue('#input')).toBe(tooLong);
    expect(await page.locator('#messages li.mine').count()).toBe(0);
    expect(await page.getAttribute('#state', 'data-state')).toBe('open');

    await send(page, 'y'.repeat(100));
    await page.locator('#messages li.mine[data-seq]:not(.pending)').waitFor();
    expect(await page.textContent('#errors')).toBe('');
    const texts = (await s.stack.runtime.readMessages('conv', 0, 100)).filter((m) => m.message_type === 'text').map((m) => m.content);
    expect(texts).toEqual(['y'.repeat(100)]);
    expect(errors).toEqual([]);
  },
  60_000,
);
