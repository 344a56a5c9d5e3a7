/**
 * A 400 from the HTTP API reads as its code's sentence followed by the server's own reason: which field and why
 * (an unknown agent, a reserved id, the characters an id may have), which the code's general sentence cannot say.
 * Regression: the page showed only "The request was not valid." / "That name or setting could not be accepted."
 * and kept the reason in a tooltip nobody finds (found by a new-user audit). The reason is text, never markup.
 * Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { HUMAN_SENTENCES } from '../../client/web/human-errors';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-refusal-reasons-browser.test');
const session = pageSessions();

const BAD_REQUEST = HUMAN_SENTENCES['GATEWAY_ERR_BAD_REQUEST']!;
const INVALID_ARGUMENT = HUMAN_SENTENCES['CHAT_ERR_INVALID_ARGUMENT']!;

/** The error line's text once it changes from `before`. */
async function nextError(page: Page, before: string): Promise<string> {
  await page.waitForFunction((old) => (document.querySelector('#errors')?.textContent ?? '') !== old, before);
  return (await page.textContent('#errors')) ?? '';
}

const pwned = (page: Page): Promise<unknown> => page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned);

maybe(
  "a 400 says the server's reason after the sentence: unknown agent, reserved id, an id's characters; as text",
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');

    await page.fill('#create-agents', 'nope');
    await page.click('#create-button');
    let shown = await nextError(page, '');
    expect(shown).toBe(`Could not create the conversation. ${BAD_REQUEST} The server said: unknown agent "nope".`);
    expect(await page.getAttribute('#errors', 'title')).toBe('GATEWAY_ERR_BAD_REQUEST: unknown agent "nope"');

    await page.fill('#add-member-id', 'system');
    await page.click('#add-person');
    shown = await nextError(page, shown);
    expect(shown).toBe(
      `Could not add system. ${INVALID_ARGUMENT} The server said: participant_id "system" is reserved: it is the sender of the conversation's own records.`,
    );

    await page.fill('#add-member-id', 'bad id!');
    await page.click('#add-person');
    shown = await nextError(page, shown);
    expect(shown).toBe(
      `Could not add bad id!. ${BAD_REQUEST} The server said: participant_id must match pattern "^[A-Za-z0-9_.@:+-]{1,128}$".`,
    );

    // A reason with markup in it (from a server in front of ours, say) stays text.
    const hostile = 'field "<img src=x onerror="window.__pwned = 1">" refused';
    await page.route('**/chat/conversations?*', (route) =>
      route.request().method() === 'POST'
        ? route.fulfill({ status: 400, json: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: hostile } })
        : route.continue(),
    );
    await page.click('#create-button');
    shown = await nextError(page, shown);
    expect(shown).toBe(`Could not create the conversation. ${BAD_REQUEST} The server said: ${hostile}.`);
    expect(await page.locator('#errors *').count()).toBe(0);
    expect(await pwned(page)).toBeUndefined();
    expect(errors).toEqual(Array(4).fill('Failed to load resource: the server responded with a status of 400 (Bad Request)'));
  },
  60_000,
);
