/**
 * The chat page's links and conversation list in a real Chromium against the real server (dev auth):
 * the page shows an open conversation's link to share; a person who is not a member opens it, is offered
 * to join, joins and chats; the list of conversations picks up, without a reload, one another user made
 * with this user in it and one this user joined in another tab, without asking the server more than
 * once an interval (and not at all while the page is hidden). Chromium: ./chromium.ts.
 */
import type { Browser } from 'playwright-core';
import { LIST_REFRESH_INTERVAL_MS } from '../../client/web/list-refresh';
import { mountWebClient } from '../../client/web/mount-web-client';
import { browserTest, launchChromium } from './chromium';
import { collectErrors, switchTab } from './page-session';
import { startRealStack, type RealStack } from './real-server';

const maybe = browserTest('chat-page-links-browser.test');

let stack: RealStack | undefined;
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  await stack?.close();
  browser = undefined;
  stack = undefined;
});

async function memberIds(conversationId: string): Promise<string[]> {
  return (await stack!.runtime.getConversation(conversationId)).participants.map((p) => p.participant_id);
}

maybe(
  'a shared link: a non-member opening it is offered to join, joins and chats; the link names no one',
  async () => {
    stack = await startRealStack({ extraRoutes: (app) => mountWebClient(app) });
    await stack.createConversation('trip', ['alice']);
    const origin = `http://127.0.0.1:${stack.port}`;
    browser = await launchChromium();

    const alice = await browser.newPage();
    const aliceErrors = collectErrors(alice);
    await alice.goto(`${origin}/?user_id=alice&conversation=trip`);
    await alice.waitForSelector('#state[data-state="open"]');
    // The link names the conversation only, never the sharer (a user id, or a token in jwt mode).
    const link = await alice.inputValue('#share-link');
    expect(link).toBe(`${origin}/?conversation=trip`);

    // Bob opens it in his own browser: he signs in (dev mode) and is offered to join; nothing changed yet.
    const bob = await (await browser.newContext()).newPage();
    const bobErrors = collectErrors(bob);
    await bob.goto(link);
    await bob.fill('#signin-user', 'bob');
    await bob.click('#signin button');
    await bob.waitForSelector('#join-offer:not(.hidden)');
    expect(await bob.getAttribute('#state', 'data-state')).toBe('idle');
    expect(await memberIds('trip')).toEqual(['alice']);

    await bob.click('#join-button');
    await bob.waitForSelector('#state[data-state="open"]');
    await bob.waitForSelector('#participant-list li:text-is("bob (you)")');
    await bob.waitForSelector('#conversations li.active[data-id="trip"]');
    expect(await bob.isHidden('#join-offer')).toBe(true);
    expect(await bob.inputValue('#share-link')).toBe(link);
    expect(await memberIds('trip')).toEqual(['alice', 'bob']);
    await alice.waitForSelector('#participant-list li:text-is("bob")');

    await bob.fill('#input', 'hi, bob here');
    await bob.press('#input', 'Enter');
    await alice.waitForSelector('#messages li.other .text:text-is("hi, bob here")');

    // A link to a conversation that does not exist: said so, nothing to join.
    const carol = await browser.newPage();
    await carol.goto(`${origin}/?user_id=carol&conversation=nowhere`);
    await carol.waitForSelector('#errors:text-is("Could not open nowhere. This conversation does not exist (any more).")');
    expect(await carol.isHidden('#join-offer')).toBe(true);

    expect(aliceErrors).toEqual([]);
    // The one failed load Chromium reports is the page's own membership check, answered 403 before the offer.
    expect(bobErrors).toEqual(['Failed to load resource: the server responded with a status of 403 (Forbidden)']);
  },
  60_000,
);

maybe(
  'the list picks up a conversation another user made and one joined in another tab, without a reload and without hammering',
  async () => {
    stack = await startRealStack({ extraRoutes: (app) => mountWebClient(app) });
    await stack.createConversation('carols', ['carol']);
    const origin = `http://127.0.0.1:${stack.port}`;
    browser = await launchChromium();
    const context = await browser.newContext();

    const tab = await context.newPage();
    const errors = collectErrors(tab);
    // The page's timers and Date run on a clock only the test moves.
    await tab.clock.install({ time: 0 });
    await tab.clock.pauseAt(1000);
    let listRequests = 0;
    tab.on('request', (r) => {
      if (r.method() === 'GET' && new URL(r.url()).pathname === '/chat/conversations') listRequests += 1;
    });
    const listAnswered = (): Promise<unknown> =>
      tab.waitForResponse((r) => r.request().method() === 'GET' && new URL(r.url()).pathname === '/chat/conversations');
    const firstList = listAnswered();
    await tab.goto(`${origin}/?user_id=alice`);
    await firstList;
    expect(listRequests).toBe(1);

    // Bob creates a conversation with alice in it (HTTP, as his own page would).
    const created = await fetch(`${origin}/chat/conversations?user_id=bob`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ conversation_id: 'from-bob', title: 'From Bob', participants: [{ participant_id: 'alice' }] }),
    });
    expect(created.status).toBe(201);
    // Nothing is asked before the interval has passed; then the list shows it.
    await tab.clock.runFor(LIST_REFRESH_INTERVAL_MS - 1000);
    expect(listRequests).toBe(1);
    expect(await tab.locator('#conversations li').count()).toBe(0);
    const second = listAnswered();
    await tab.clock.runFor(1000);
    await second;
    await tab.waitForSelector('#conversations li[data-id="from-bob"]:text-is("From Bob")');
    expect(listRequests).toBe(2);

    // Alice switches to another tab (this one goes to the background) and joins carol's conversation
    // there from its link. However long she stays, the hidden tab asks nothing.
    await switchTab(tab, 'away');
    const other = await context.newPage();
    await other.goto(`${origin}/?user_id=alice&conversation=carols`);
    await other.click('#join-button');
    await other.waitForSelector('#state[data-state="open"]');
    await tab.clock.runFor(10 * LIST_REFRESH_INTERVAL_MS);
    expect(listRequests).toBe(2);
    // Back in the first tab: the list is asked at once, once for the two events a tab switch fires.
    const onReturn = listAnswered();
    await switchTab(tab, 'back');
    await onReturn;
    await tab.waitForSelector('#conversations li[data-id="carols"]');
    expect(listRequests).toBe(3);
    // Focus coming back right after an answer asks nothing more.
    await tab.evaluate(() => window.dispatchEvent(new Event('focus')));
    expect(listRequests).toBe(3);

    // Visible: one request an interval.
    for (let i = 0; i < 3; i += 1) {
      const next = listAnswered();
      await tab.clock.runFor(LIST_REFRESH_INTERVAL_MS);
      await next;
    }
    expect(listRequests).toBe(6);
    expect(errors).toEqual([]);
  },
  60_000,
);
