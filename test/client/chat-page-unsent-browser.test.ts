/**
 * The chat page keeps its user's unacknowledged messages in localStorage (client/web/unsent-store.ts): after a
 * reload, or a switch to another conversation and back, they show again as "sending…" and go again with the same
 * message_id, so one that did land before shows once, to everyone. Chromium against the real server (dev auth);
 * the page's sockets pass through Playwright's WebSocket routing (./socket-tap.ts), which holds the page's
 * messages, loses what the server answers, or refuses one as the server would; and, without it, through a stopped
 * server the page's client gives up on. Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions, type PageSession } from './page-session';
import { tapChatSockets, type SocketTap } from './socket-tap';

const maybe = browserTest('chat-page-unsent-browser.test');
const session = pageSessions();

/** A page of its own (own localStorage), signed in as `user`, on `conversation`, connected. */
async function openAs(s: PageSession, user: string, conversation: string, tap = false): Promise<{ page: Page; tap?: SocketTap }> {
  const page = await (await s.browser.newContext()).newPage();
  const socketTap = tap ? await tapChatSockets(page) : undefined;
  await page.goto(`${s.origin}/?user_id=${user}&conversation=${conversation}`);
  await page.waitForSelector('#state[data-state="open"]');
  return { page, ...(socketTap ? { tap: socketTap } : {}) };
}

async function send(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
}

/** Lines showing exactly `text` (records and pending lines alike). */
const linesWith = (page: Page, text: string): Promise<number> =>
  page.locator(`#messages li .text`).evaluateAll((nodes, t) => nodes.filter((n) => n.textContent === t).length, text);

/** The page's kept unsent messages, all conversations: [key, parsed entry]. */
const kept = (page: Page): Promise<[string, { message_id: string; content: string; refused?: unknown }[]][]> =>
  page.evaluate(() =>
    Object.keys(localStorage)
      .filter((k) => k.startsWith('nlweb-chat.unsent:'))
      .map((k) => [k, JSON.parse(localStorage.getItem(k)!)]),
  );

/** The records the server stored with `content`. */
async function stored(s: PageSession, conversation: string, content: string): Promise<number> {
  const res = await fetch(`${s.origin}/chat/conversations/${conversation}/messages?user_id=bob&before=1000&limit=100`);
  const body = (await res.json()) as { messages: { content: string }[] };
  return body.messages.filter((m) => m.content === content).length;
}

/** Accepts the "leave the page?" question a reload with unsent messages brings. */
const acceptLeaving = (page: Page): void => void page.on('dialog', (d) => void d.accept());

maybe(
  'a reload keeps what was not acknowledged: shown again, sent again with its id; the one that had landed shows once',
  async () => {
    const s = await session();
    await s.stack.createConversation('conv', ['alice', 'bob']);
    const bob = (await openAs(s, 'bob', 'conv')).page;
    const { page: alice, tap } = await openAs(s, 'alice', 'conv', true);
    const errors = collectErrors(alice);
    acceptLeaving(alice);

    // It lands (bob has it), but nothing comes back: no ack, no record.
    tap!.deaf = true;
    await send(alice, 'landed before the reload');
    await bob.waitForSelector('#messages li.other .text:text-is("landed before the reload")');
    // This one never leaves the page.
    tap!.holdSends = true;
    await send(alice, 'never left the page');
    await alice.waitForSelector('#messages li.pending >> nth=1');
    expect((await kept(alice)).flatMap(([, ms]) => ms.map((m) => m.content))).toEqual(['landed before the reload', 'never left the page']);

    // Its ack is lost for good already: what the server says from now on may reach the page.
    tap!.deaf = false;
    await alice.reload();
    await alice.waitForSelector('#state[data-state="open"]');
    // The one the server has is its record, once; the other is "sending…" again (its re-send held as well).
    const pending = alice.locator('#messages li.mine.pending');
    await pending.waitFor();
    expect(await pending.count()).toBe(1);
    expect(await pending.locator('.text').textContent()).toBe('never left the page');
    expect(await pending.locator('.status').textContent()).toBe('sending…');
    expect(await linesWith(alice, 'landed before the reload')).toBe(1);
    expect(await alice.locator('#messages li.mine[data-seq] .text:text-is("landed before the reload")').count()).toBe(1);

    // The network delivers: both went again, with the ids they were first sent with.
    const [first, second] = (await kept(alice))[0]![1].map((m) => m.message_id);
    tap!.holdSends = false;
    tap!.release();
    await alice.waitForSelector('#messages li.mine[data-seq] .text:text-is("never left the page")');
    await alice.waitForSelector('#pending:empty', { state: 'attached' });
    expect(tap!.forwarded.filter((id) => id === first)).toHaveLength(2);
    expect(tap!.forwarded.filter((id) => id === second)).toHaveLength(1);
    await bob.waitForSelector('#messages li.other .text:text-is("never left the page")');
    for (const text of ['landed before the reload', 'never left the page']) {
      expect(await linesWith(alice, text)).toBe(1);
      expect(await linesWith(bob, text)).toBe(1);
      expect(await stored(s, 'conv', text)).toBe(1);
    }
    expect(await alice.locator('#messages li.pending').count()).toBe(0);
    await alice.waitForFunction(() => !Object.keys(localStorage).some((k) => k.startsWith('nlweb-chat.unsent:')));
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'switching to another conversation keeps an unsent message without asking; back there it shows and goes, once',
  async () => {
    const s = await session();
    await s.stack.createConversation('first', ['alice', 'bob']);
    await s.stack.createConversation('second', ['alice']);
    const bob = (await openAs(s, 'bob', 'first')).page;
    const { page: alice, tap } = await openAs(s, 'alice', 'first', true);
    const errors = collectErrors(alice);
    const asked: string[] = [];
    alice.on('dialog', (d) => {
      asked.push(d.type());
      void d.dismiss();
    });

    tap!.holdSends = true;
    await send(alice, 'draft for bob');
    await alice.waitForSelector('#messages li.pending');
    await alice.click('#conversations li[data-id="second"]');
    await alice.waitForSelector('#conversations li.active[data-id="second"]');
    await alice.waitForSelector('#state[data-state="open"]');
    expect(await linesWith(alice, 'draft for bob')).toBe(0);
    expect(asked).toEqual([]);
    // Kept for the conversation it was written in, not the open one.
    expect((await kept(alice)).map(([key, ms]) => [JSON.parse(key.slice(key.indexOf(':') + 1)).at(-1), ms.length])).toEqual([['first', 1]]);

    await alice.click('#conversations li[data-id="first"]');
    await alice.waitForSelector('#conversations li.active[data-id="first"]');
    const pending = alice.locator('#messages li.mine.pending');
    await pending.waitFor();
    expect(await pending.locator('.text').textContent()).toBe('draft for bob');
    expect(await pending.locator('.status').textContent()).toBe('sending…');
    await alice.waitForSelector('#state[data-state="open"]');

    tap!.holdSends = false;
    tap!.release();
    await alice.waitForSelector('#messages li.mine[data-seq] .text:text-is("draft for bob")');
    await bob.waitForSelector('#messages li.other .text:text-is("draft for bob")');
    await alice.waitForSelector('#pending:empty', { state: 'attached' });
    expect(await linesWith(alice, 'draft for bob')).toBe(1);
    expect(await linesWith(bob, 'draft for bob')).toBe(1);
    expect(await stored(s, 'first', 'draft for bob')).toBe(1);
    expect(await kept(alice)).toEqual([]);
    expect(asked).toEqual([]);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'a refused message offers "send again" where that can work, also after a reload, and "discard"; a too-long one only edit',
  async () => {
    const s = await session();
    await s.stack.createConversation('conv', ['alice', 'bob']);
    const bob = (await openAs(s, 'bob', 'conv')).page;
    const { page: alice, tap } = await openAs(s, 'alice', 'conv', true);
    acceptLeaving(alice);

    // The server's answer while a conversation restarts after a failure (actors/errors.ts).
    const restarting = { error: 'CHAT_ERR_RESTARTING', code: 503, message: 'conversation is restarting after a failure; retry shortly' };
    tap!.refuseNext = restarting;
    await send(alice, 'worth another try');
    tap!.refuseNext = restarting;
    await send(alice, 'not worth it');
    await send(alice, 'x'.repeat(10_001));
    await alice.waitForSelector('#messages li.refused >> nth=2');
    const refused = alice.locator('#messages li.refused');
    expect(await refused.locator('.reason').allTextContents()).toEqual([
      'not sent: The conversation is restarting. Try again in a moment.',
      'not sent: The conversation is restarting. Try again in a moment.',
      'not sent: The message is too long: at most 10,000 characters fit in one message.',
    ]);
    const buttons = (n: number): Promise<string[]> => refused.nth(n).locator('button').allTextContents();
    expect(await buttons(0)).toEqual(['send again', 'edit', 'discard']);
    expect(await buttons(2)).toEqual(['edit', 'discard']);

    // Refused messages are kept, marked, across a reload: nothing is sent by itself.
    await alice.reload();
    await alice.waitForSelector('#state[data-state="open"]');
    await alice.waitForSelector('#messages li.refused >> nth=2');
    expect(await buttons(0)).toEqual(['send again', 'edit', 'discard']);
    expect(await buttons(2)).toEqual(['edit', 'discard']);
    expect(await refused.locator('.reason').nth(0).getAttribute('title')).toBe(`CHAT_ERR_RESTARTING: ${restarting.message}`);

    await refused.nth(1).locator('button.discard').click();
    await refused.nth(0).locator('button.again').click();
    await alice.waitForSelector('#messages li.mine[data-seq] .text:text-is("worth another try")');
    await bob.waitForSelector('#messages li.other .text:text-is("worth another try")');
    expect(await linesWith(alice, 'worth another try')).toBe(1);
    expect(await linesWith(alice, 'not worth it')).toBe(0);
    expect(await linesWith(bob, 'worth another try')).toBe(1);
    expect(await stored(s, 'conv', 'worth another try')).toBe(1);
    expect(await stored(s, 'conv', 'not worth it')).toBe(0);

    // What is left: the too-long one, until its text goes back to the input.
    expect((await kept(alice)).flatMap(([, ms]) => ms.map((m) => m.content.length))).toEqual([10_001]);
    await refused.locator('button.edit').click();
    expect(await alice.inputValue('#input')).toBe('x'.repeat(10_001));
    expect(await kept(alice)).toEqual([]);
  },
  60_000,
);

maybe(
  'a message the page could not send before its client gave up (server stopped) is sent by "send again" once the server is back',
  async () => {
    // The server lets the page's client try twice, then give up (mountWebClient's maxRetries).
    const s = await session({ page: { maxRetries: 2 } });
    await s.stack.createConversation('conv', ['alice', 'bob']);
    const page = await (await s.browser.newContext()).newPage();
    await page.clock.install({ time: 0 });
    await page.goto(`${s.origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');
    // From here on no timer of the page fires unless the test moves the clock.
    await page.clock.pauseAt((await page.evaluate(() => Date.now())) + 1000);

    await s.stack.stopServer();
    await page.waitForSelector('#state[data-state="reconnecting"]');
    await send(page, 'written in the outage');
    await page.waitForSelector('#messages li.pending');
    // The next attempt fails too: the client ends, and the message says so, with "send again".
    await page.clock.runFor(30_000);
    await page.waitForSelector('#state[data-state="closed"]');
    const refused = page.locator('#messages li.refused');
    await refused.waitFor();
    expect(await refused.locator('.reason').textContent()).toBe('not sent: The connection was closed.');
    expect(await refused.locator('button').allTextContents()).toEqual(['send again', 'edit', 'discard']);
    // Still kept as unsent (not refused by the server): a reload would send it too.
    expect((await kept(page)).flatMap(([, ms]) => ms.map((m) => [m.content, m.refused]))).toEqual([['written in the outage', undefined]]);

    await s.stack.startServer();
    const bob = (await openAs(s, 'bob', 'conv')).page;
    await refused.locator('button.again').click();
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#messages li.mine[data-seq] .text:text-is("written in the outage")');
    await bob.waitForSelector('#messages li.other .text:text-is("written in the outage")');
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    expect(await linesWith(page, 'written in the outage')).toBe(1);
    expect(await linesWith(bob, 'written in the outage')).toBe(1);
    expect(await stored(s, 'conv', 'written in the outage')).toBe(1);
    expect(await kept(page)).toEqual([]);
  },
  60_000,
);
