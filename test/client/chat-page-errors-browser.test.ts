/**
 * The chat page tells people what went wrong in sentences (client/web/human-errors.ts), never a raw code, and keeps
 * the code and the server's message in a tooltip; rate limits, which the client handles itself, are not shown.
 * Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import type { Agent } from '../../actors/agents/agent';
import { ChatError } from '../../actors/errors';
import { HUMAN_SENTENCES } from '../../client/web/human-errors';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-errors-browser.test');
const session = pageSessions();

/** An agent whose service is down, as an NLWeb agent reports it. */
function unreachableAgent(): Agent {
  return {
    id: 'nlweb',
    displayName: 'NLWeb',
    respond: () => ({
      [Symbol.asyncIterator]: () => ({
        next: () => Promise.reject(new ChatError('AGENT_ERR_CONNECTION', 'NLWeb endpoint unreachable: ECONNREFUSED')),
      }),
    }),
  };
}

/** Everything a person reads on the page (tooltips are not read). */
const visibleText = (page: Page): Promise<string> => page.evaluate(() => document.body.innerText);

maybe(
  "an agent's failure, a refused create and a removal read as sentences, with the codes in tooltips",
  async () => {
    const { stack, browser, origin } = await session({ agents: [unreachableAgent()] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    const page = await browser.newPage();
    const pageErrors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    await page.fill('#input', 'any vegan places?');
    await page.press('#input', 'Enter');
    const failed = await page.waitForSelector('#messages li.system:has-text("could not answer")');
    expect(await failed.textContent()).toBe(`NLWeb could not answer. ${HUMAN_SENTENCES['AGENT_ERR_CONNECTION']}`);
    expect(await failed.getAttribute('title')).toBe(
      'AGENT_ERR_CONNECTION: NLWeb could not answer: NLWeb endpoint unreachable: ECONNREFUSED',
    );

    await page.fill('#create-agents', 'nobody');
    await page.click('#create-button');
    await page.waitForSelector('#errors:not(:empty)');
    expect(await page.textContent('#errors')).toBe(
      `Could not create the conversation. ${HUMAN_SENTENCES['GATEWAY_ERR_BAD_REQUEST']} The server said: unknown agent "nobody".`,
    );
    expect(await page.getAttribute('#errors', 'title')).toBe('GATEWAY_ERR_BAD_REQUEST: unknown agent "nobody"');

    // Removed from the conversation elsewhere: the socket ends with 4003.
    await stack.runtime.leave('conv', 'alice');
    await page.waitForSelector('#state[data-state="closed"]');
    expect(await page.textContent('#state')).toBe('closed');
    expect(await page.textContent('#errors')).toBe(HUMAN_SENTENCES['CHAT_ERR_NOT_PARTICIPANT']);
    expect(await page.getAttribute('#state', 'title')).toBe('fatal close 4003: CHAT_ERR_NOT_PARTICIPANT');

    const text = await visibleText(page);
    expect(text).not.toMatch(/_ERR_|ECONNREFUSED|fatal close/);
    // The refused create is logged by the browser itself; the page threw nothing.
    expect(pageErrors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
  },
  60_000,
);

maybe(
  'messages refused for the rate limit are re-sent by the client and say nothing on the page',
  async () => {
    const { stack, browser, origin } = await session({ config: { chat: { limits: { rate_limit_per_second: 1, rate_limit_burst: 1 } } } });
    await stack.createConversation('conv', ['alice']);
    const page = await browser.newPage();
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');
    const refusals: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', (f) => {
        if (typeof f.payload === 'string' && f.payload.includes('"code":429')) refusals.push(f.payload);
      }),
    );
    // The page's socket is already open: watch the next one the test makes the page open.
    await page.reload();
    await page.waitForSelector('#state[data-state="open"]');
    // The client paces its sends to alice's budget, so the server refuses them only when something it cannot see
    // spent it: a post of hers over HTTP (or another tab) takes the one token the page's client counts on.
    const res = await fetch(`${origin}/chat/conversations/conv/messages`, {
      method: 'POST',
      headers: { 'X-User-Id': 'alice', 'content-type': 'application/json' },
      body: JSON.stringify({ message_id: 'over-http', content: 'elsewhere' }),
    });
    expect(res.status).toBe(201);
    for (const text of ['one', 'two', 'three']) {
      await page.fill('#input', text);
      await page.press('#input', 'Enter');
    }
    await page.waitForSelector('#messages li.mine .text:text-is("three")');
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    expect(refusals.length).toBeGreaterThan(0);
    expect(await page.textContent('#errors')).toBe('');
  },
  60_000,
);
