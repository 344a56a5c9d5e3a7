/**
 * The chat page through a server outage, in a real Chromium against the real server (dev auth): it keeps
 * trying past the client's default of 10 attempts (the page's client has no limit unless the server sets one),
 * says "reconnecting…" with a button that retries at once, and retries at once on the browser's `online` event.
 * The page's timers run on a clock only the test moves (Playwright's page.clock), so the 30 s waits take no time.
 * Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { pageSessions } from './page-session';

const maybe = browserTest('chat-page-reconnect-browser.test');
const session = pageSessions();

/**
 * Moves the page's clock by the 30 s cap until the badge shows an attempt past `last`, and returns its state and
 * attempt; a page that gives up answers at once ('closed') instead of timing out.
 */
async function nextAttempt(page: Page, last: number): Promise<{ state: string; attempt: number }> {
  await page.clock.runFor(30_000);
  const badge = await page.waitForSelector(`#state[data-state="closed"], #state[data-attempt]:not([data-attempt="${last}"])`);
  return { state: (await badge.getAttribute('data-state')) ?? '', attempt: Number(await badge.getAttribute('data-attempt')) };
}

maybe(
  'through an outage the page keeps trying past 10 attempts, "retry now" and the online event reconnect at once',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('conv', ['alice']);
    const page = await browser.newPage();
    await page.clock.install({ time: 0 });
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.isHidden('#retry')).toBe(true);
    // From here on no timer of the page fires unless the test moves the clock.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);

    await stack.stopServer();
    await page.waitForSelector('#state[data-attempt="1"]');
    // Each wait is at most the 30 s cap, and every attempt fails at once (nothing listens on the port). One move
    // of the clock may hold two attempts: the connect timeout (15 s, fake) can end one before the refusal (real) does.
    let attempt = 1;
    while (attempt < 12) {
      const next = await nextAttempt(page, attempt);
      expect(next.state).toBe('reconnecting');
      attempt = next.attempt;
    }
    expect(await page.textContent('#state')).toBe('reconnecting…');
    expect(await page.isVisible('#retry')).toBe(true);
    expect(await page.isEnabled('#input')).toBe(true);

    // The server is back: the button connects without the clock moving.
    await stack.startServer();
    await page.click('#retry');
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.isHidden('#retry')).toBe(true);

    // Another outage; the browser says the network is back: the page tries at once.
    await stack.stopServer();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    await stack.startServer();
    await page.evaluate(() => window.dispatchEvent(new Event('online')));
    await page.waitForSelector('#state[data-state="open"]');
  },
  60_000,
);
