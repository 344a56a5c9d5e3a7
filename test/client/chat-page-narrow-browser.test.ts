/**
 * The chat page on a phone-sized screen (390 px wide): the conversation list and the participants collapse behind
 * buttons, so the messages and the send box get the width; on a wide screen all three columns show as before.
 * Chromium against the real server (dev auth); screenshots go to the temp dir. Chromium: ./chromium.ts.
 */
import os from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-narrow-browser.test');
const session = pageSessions();

const box = async (page: Page, selector: string): Promise<{ x: number; width: number }> => {
  const b = await page.locator(selector).boundingBox();
  if (!b) throw new Error(`${selector} is not shown`);
  return b;
};

maybe(
  'at 390 px the side columns collapse behind buttons and nothing is wider than the screen',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice', 'bob']);
    await stack.createConversation('other', ['alice']);
    const page = await browser.newPage({ viewport: { width: 390, height: 844 } });
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
    await page.fill('#input', 'hello from a phone');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine[data-seq]');
    await page.screenshot({ path: path.join(os.tmpdir(), `nlweb-chat-page-390-${process.pid}.png`) });

    expect(await page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
    expect(await page.isHidden('#sidebar')).toBe(true);
    expect(await page.isHidden('#participants')).toBe(true);
    expect((await box(page, '#messages')).width).toBeGreaterThanOrEqual(360);
    const send = await box(page, '#send');
    expect(send.x + send.width).toBeLessThanOrEqual(390);

    // The list opens over the messages and closes again when a conversation is picked.
    await page.click('#toggle-list');
    expect(await page.isVisible('#sidebar')).toBe(true);
    await page.screenshot({ path: path.join(os.tmpdir(), `nlweb-chat-page-390-list-${process.pid}.png`) });
    await page.click('#conversations li[data-id="other"]');
    await page.waitForSelector('#title:text-is("other")');
    expect(await page.isHidden('#sidebar')).toBe(true);

    // The people panel closes by a tap beside it, or Escape.
    await page.click('#toggle-people');
    expect(await page.isVisible('#participant-list li[data-id="alice"]')).toBe(true);
    await page.mouse.click(20, 400);
    expect(await page.isHidden('#participants')).toBe(true);
    await page.click('#toggle-people');
    await page.keyboard.press('Escape');
    expect(await page.isHidden('#participants')).toBe(true);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'on a wide screen the three columns show and the buttons do not',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice']);
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${origin}/?user_id=alice&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
    for (const shown of ['#sidebar', '#participants']) expect(await page.isVisible(shown)).toBe(true);
    for (const hidden of ['#toggle-list', '#toggle-people']) expect(await page.isHidden(hidden)).toBe(true);
  },
  60_000,
);
