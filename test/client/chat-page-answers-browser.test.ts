/**
 * How the chat page shows an AI answer: the pieces of one answer (one job) in one bubble that grows as they
 * stream in, item links as real links (http/https only, opening in a new tab without an opener); and that no
 * message, AI or human, can put markup into the page. Chromium against the real server (dev auth), with an agent
 * whose pieces the test releases one by one. Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { steppedAgent } from './stepped-agent';

const maybe = browserTest('chat-page-answers-browser.test');
const session = pageSessions();

const hostile = '<img src=x onerror="window.__pwned = 1"><script>window.__pwned = 2</script>';
const PIECES = [
  'Here are three vegan places:',
  'Cafe Verde - all vegan <https://example.com/verde?a=1&b=2>\nRoot - lunch only <http://example.org/root>',
  `Trick <javascript:alert(1)> and ${hostile} <https://example.com/ok>`,
];

const pwned = (page: Page): Promise<unknown> => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);

maybe(
  "one answer's pieces grow one bubble; item links are real links; no message can inject markup",
  async () => {
    const agent = steppedAgent(PIECES);
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    await page.fill('#input', hostile);
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine[data-seq]');
    expect(await page.locator('#messages li.mine .text').textContent()).toBe(hostile);

    const bubbles = page.locator('#messages li.ai');
    for (let n = 1; n <= PIECES.length; n++) {
      agent.release();
      await page.waitForSelector(`#messages li.ai .piece >> nth=${n - 1}`);
      expect(await bubbles.count()).toBe(1);
      expect(await bubbles.locator('.piece').count()).toBe(n);
    }
    expect(await bubbles.locator('.who').count()).toBe(1);

    const links = await bubbles.locator('a').evaluateAll((as) =>
      as.map((a) => ({
        href: a.getAttribute('href'),
        text: a.textContent,
        rel: a.getAttribute('rel'),
        target: a.getAttribute('target'),
      })),
    );
    const attrs = { rel: 'noopener noreferrer', target: '_blank' };
    expect(links).toEqual([
      { href: 'https://example.com/verde?a=1&b=2', text: 'https://example.com/verde?a=1&b=2', ...attrs },
      { href: 'http://example.org/root', text: 'http://example.org/root', ...attrs },
      { href: 'https://example.com/ok', text: 'https://example.com/ok', ...attrs },
    ]);
    // Everything else is text, exactly as sent.
    expect(await bubbles.locator('.piece').nth(2).textContent()).toBe(`Trick <javascript:alert(1)> and ${hostile} https://example.com/ok`);
    expect(await page.locator('#messages img, #messages script').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    expect(errors).toEqual([]);
  },
  60_000,
);
