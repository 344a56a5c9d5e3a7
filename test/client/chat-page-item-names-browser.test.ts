/**
 * AI answers name their links: where the NLWeb item has a name, the link's text is the name (as text, never
 * markup) and the URL is its tooltip; an item without a name keeps its URL as the link's text. The real NLWeb
 * agent against the NLWeb stand-in (testing/), answering from items the test gives it, and Chromium against the
 * real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import type { StandinItem } from '../../testing/standin-items';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { standinAgents } from './standin-agents';

const maybe = browserTest('chat-page-item-names-browser.test');
const session = pageSessions();

const nlweb = standinAgents();

const hostileName = '<img src=x onerror="window.__pwned = 1">Fake & Co';
const item = (url: string, name: string, description: string): StandinItem => ({
  url,
  name,
  site: 'example.com',
  description,
  keywords: ['vegan'],
  schema_object: { '@type': 'Restaurant', url, description },
});
const ITEMS = [
  item('https://example.com/verde?a=1&b=2', 'Cafe Verde', 'all vegan'),
  item('https://example.com/trick', hostileName, 'a name with markup in it'),
  // No name: NLWeb's reading falls back to the URL, and so does the link.
  item('https://example.com/nameless', '', 'vegan, no name given'),
];

const pwned = (page: Page): Promise<unknown> => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);

maybe(
  "an answer's links read as the items' names (the URL in the tooltip), as text; a nameless item shows its URL",
  async () => {
    const standin = await nlweb.standin({ latencyMs: 0, batches: 1, items: ITEMS });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb' });
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    await page.fill('#input', 'vegan places');
    await page.press('#input', 'Enter');
    const answer = page.locator('#messages li.ai');
    await page.waitForFunction(() => document.querySelectorAll('#messages li.ai a').length === 3);

    const links = await answer
      .locator('a')
      .evaluateAll((as) => as.map((a) => ({ href: a.getAttribute('href'), text: a.textContent, title: a.getAttribute('title') })));
    expect(links).toEqual([
      { href: 'https://example.com/verde?a=1&b=2', text: 'Cafe Verde', title: 'https://example.com/verde?a=1&b=2' },
      { href: 'https://example.com/trick', text: hostileName, title: 'https://example.com/trick' },
      { href: 'https://example.com/nameless', text: 'https://example.com/nameless', title: null },
    ]);
    // Each item's line says its name once, then its description; the bracketed URL is gone where the name links.
    const text = (await answer.locator('.text').innerText()).split('\n');
    expect(text).toEqual([
      'Cafe Verde - all vegan',
      `${hostileName} - a name with markup in it`,
      'https://example.com/nameless - vegan, no name given https://example.com/nameless',
    ]);
    expect(await page.locator('#messages img').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    expect(errors).toEqual([]);
  },
  60_000,
);
