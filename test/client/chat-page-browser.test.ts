/**
 * The browser chat page in a real Chromium (playwright-core) against the real server with the echo
 * agent: create a conversation in the UI, type a message, see it and the agent's answer.
 * Chromium must be at /usr/bin/chromium: in CI (process.env.CI) its absence fails the test,
 * elsewhere the test is skipped with a message.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { createEchoAgent } from '../../actors';
import { mountWebClient } from '../../client/web/mount-web-client';
import { startRealStack, type RealStack } from './real-server';

const CHROMIUM = '/usr/bin/chromium';
const available = existsSync(CHROMIUM);
if (!available && !process.env['CI']) {
  console.warn(`chat-page-browser.test: ${CHROMIUM} not found, skipping (install it: apt-get install -y chromium)`);
}
const maybe = available || process.env['CI'] ? test : test.skip;

let stack: RealStack | undefined;
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  await stack?.close();
  browser = undefined;
  stack = undefined;
});

maybe(
  'type a message in the page and see it with the echo answer',
  async () => {
    stack = await startRealStack({ agents: [createEchoAgent()], extraRoutes: (app) => mountWebClient(app) });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
      ],
    });
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    await page.goto(`http://127.0.0.1:${stack.port}/?user_id=alice`);

    const t0 = Date.now();
    await page.fill('#create-title', 'Browser test');
    await page.fill('#create-agents', 'echo');
    await page.click('#create-button');
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#participant-list li:has-text("echo")');

    await page.fill('#input', 'hello from chromium');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine .text:text-is("hello from chromium")');
    await page.waitForSelector('#messages li.ai .text:text-is("echo: hello from chromium")');

    const shot = path.join(os.tmpdir(), `nlweb-chat-page-${process.pid}.png`);
    await page.screenshot({ path: shot });
    expect(existsSync(shot)).toBe(true);
    console.log(`chat page screenshot: ${shot} (page flow ${Date.now() - t0} ms)`);

    // The page's conversation exists server-side with both records, in order.
    const list = await stack.runtime.listConversations('alice');
    expect(list.map((c) => c.title)).toEqual(['Browser test']);
    const journal = await stack.runtime.readMessages(list[0]!.conversation_id, 0, 100);
    const texts = journal.filter((m) => m.sender_type !== 'system' && m.message_type !== 'join').map((m) => `${m.sender_id}: ${m.content}`);
    expect(texts).toEqual(['alice: hello from chromium', 'echo: echo: hello from chromium']);
    // Every message confirmed as persisted: the page shows no pending count.
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    expect(pageErrors).toEqual([]);

    // A non-member opening the conversation by URL is told so instead of retrying the socket.
    const other = await browser.newPage();
    await other.goto(`http://127.0.0.1:${stack.port}/?user_id=mallory&conversation=${encodeURIComponent(list[0]!.conversation_id)}`);
    await other.waitForSelector('#errors:has-text("cannot open")');
    expect(await other.getAttribute('#state', 'data-state')).toBe('idle');
  },
  60_000,
);
