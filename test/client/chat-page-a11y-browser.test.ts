/**
 * The chat page for screen-reader users: every control has an accessible name (the create form and the message
 * box had only placeholders, which assistive technology does not reliably read as a name), and the message list is
 * a live log, so a new message is announced. Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-a11y-browser.test');
const session = pageSessions();

maybe('every input and button has an accessible name; messages are a polite live log; the lists are named', async () => {
  const { stack, browser, origin } = await session();
  await stack.createConversation('trip', ['alice', 'bob']);
  const page = await browser.newPage();
  const errors = collectErrors(page);
  await page.goto(`${origin}/?user_id=alice&conversation=trip`);
  await page.waitForSelector('#state[data-state="open"]');

  // Controls without a name: no <label>, no aria-label / aria-labelledby, no text (buttons).
  const unnamed = await page.evaluate(() =>
    Array.from(document.querySelectorAll('input, textarea, select, button'))
      .filter((el) => {
        const labelled = (el as HTMLInputElement).labels?.length ?? 0;
        const aria = el.getAttribute('aria-label') ?? el.getAttribute('aria-labelledby') ?? '';
        const text = el.tagName === 'BUTTON' ? (el.textContent ?? '').trim() : '';
        return labelled === 0 && aria.trim() === '' && text === '';
      })
      .map((el) => `${el.tagName.toLowerCase()}#${el.id}`),
  );
  expect(unnamed).toEqual([]);

  await page.getByRole('textbox', { name: 'Message' }).fill('hello there');
  await page.getByRole('button', { name: 'Send' }).click();
  const log = page.getByRole('log', { name: 'Messages' });
  expect(await log.getAttribute('aria-live')).toBe('polite');
  await log.getByText('hello there').waitFor();
  expect(await page.getByRole('list', { name: 'Conversations' }).count()).toBe(1);
  expect(await page.getByRole('list', { name: 'Participants' }).count()).toBe(1);
  expect(errors).toEqual([]);
});
