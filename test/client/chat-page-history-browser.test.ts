/**
 * The chat page opens a long conversation at its latest messages: the latest page over HTTP
 * (GET .../messages?before=), then the socket resumes after that page's last id, so it replays nothing the page
 * already shows and misses nothing posted in between. "Load earlier messages" (or scrolling to the top) brings
 * older pages, keeping what is on screen where it was. Chromium against the real server (dev auth).
 * Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import type { ConversationOutput } from '../../actors';
import { MemoryStore } from '../../storage-providers';
import { browserTest } from './chromium';
import type { RealStack } from './real-server';
import { collectErrors, pageSessions, type PageSessionOptions } from './page-session';
import { steppedAgent } from './stepped-agent';

const maybe = browserTest('chat-page-history-browser.test');
const session = pageSessions();
/** Stores a test opened itself, closed after the session's stack (afterEach hooks run in the order they are declared). */
const stores: MemoryStore[] = [];
afterEach(async () => {
  for (const store of stores.splice(0)) await store.close();
});

/** Posts `count` messages (alice and bob in turn); returns the last sequence id. */
async function fill(stack: RealStack, conv: string, count: number): Promise<number> {
  let last = 0;
  for (let i = 0; i < count; i++) {
    const r = await stack.runtime.post(conv, { sender_id: i % 2 ? 'alice' : 'bob', message_id: `m${i}`, content: `message ${i}` });
    last = r.sequence_id;
  }
  return last;
}

/** Every record the page shows, in page order: an answer's pieces one by one, any other line once. */
const shownSeqs = (page: Page): Promise<number[]> =>
  page.evaluate(() =>
    Array.from(document.querySelectorAll<HTMLElement>('#messages > li[data-seq]')).flatMap((li) => {
      const pieces = Array.from(li.querySelectorAll<HTMLElement>('.piece[data-seq]'));
      return (pieces.length > 0 ? pieces : [li]).map((n) => Number(n.dataset['seq']));
    }),
  );

const range = (from: number, to: number): number[] => Array.from({ length: to - from + 1 }, (_, i) => from + i);

/** The WebSocket URLs the page opened, and the sequence ids of the records each delivered. */
function watchSockets(page: Page): { urls: URL[]; delivered: number[] } {
  const seen = { urls: [] as URL[], delivered: [] as number[] };
  page.on('websocket', (ws) => {
    seen.urls.push(new URL(ws.url()));
    ws.on('framereceived', ({ payload }) => {
      const frame = JSON.parse(String(payload)) as { type: string; message?: { sequence_id: number } };
      if (frame.type === 'message' && frame.message) seen.delivered.push(frame.message.sequence_id);
    });
  });
  return seen;
}

/**
 * Alice's page on the conversation `long` (alice, bob and `count` messages), open; `prepare` runs before the page
 * loads (to route its requests).
 */
async function openLong(
  count: number,
  options: PageSessionOptions = {},
  prepare: (page: Page, stack: RealStack) => Promise<unknown> = async () => undefined,
) {
  const { stack, browser, origin } = await session(options);
  await stack.createConversation('long', ['alice', 'bob']);
  const last = await fill(stack, 'long', count);
  const page = await browser.newPage();
  const errors = collectErrors(page);
  const sockets = watchSockets(page);
  await prepare(page, stack);
  await page.goto(`${origin}/?user_id=alice&conversation=long`);
  await page.waitForSelector('#state[data-state="open"]');
  return { stack, page, errors, sockets, last };
}

/**
 * Presses "Load earlier messages" as a DOM click. page.click would first scroll the button into view, which
 * scrolls the list to its top, which loads the earlier page by itself (the page's scroll trigger): two loads
 * racing, and a button hidden while page.click waits for it (seen on a loaded CI machine).
 */
async function pressLoadEarlier(page: Page): Promise<void> {
  await page.$eval('#load-earlier', (b) => (b as HTMLButtonElement).click());
}

/** Presses "Load earlier messages" and waits until an older record shows first. */
async function loadEarlier(page: Page): Promise<void> {
  const first = (await shownSeqs(page))[0]!;
  await pressLoadEarlier(page);
  await page.waitForFunction((f) => {
    const li = document.querySelector<HTMLElement>('#messages > li[data-seq]');
    return li !== null && Number(li.dataset['seq']) < f;
  }, first);
}

maybe(
  'a 300-message conversation opens at its latest 50, the socket replays none of them, and earlier pages load in order, once each',
  async () => {
    const { stack, page, errors, sockets, last } = await openLong(300);

    expect(await shownSeqs(page)).toEqual(range(last - 49, last));
    // The socket was asked for what comes after the page, and delivered nothing the page already had.
    expect(sockets.urls.map((u) => u.searchParams.get('last_sequence_id'))).toEqual([String(last)]);
    expect(sockets.delivered).toEqual([]);
    // Opened at the bottom: the latest message is in view.
    expect(await page.isVisible('#load-earlier')).toBe(true);
    expect(
      await page.evaluate(() => {
        const s = document.getElementById('scroller')!;
        return s.scrollTop + s.clientHeight >= s.scrollHeight - 2;
      }),
    ).toBe(true);

    let loads = 0;
    while (await page.isVisible('#load-earlier')) {
      await loadEarlier(page);
      loads++;
    }
    expect(loads).toBe(Math.ceil(last / 50) - 1);
    expect(await shownSeqs(page)).toEqual(range(1, last));
    expect(await page.textContent('#history-note')).toBe('');

    // Live messages still arrive below, once.
    await stack.runtime.post('long', { sender_id: 'bob', message_id: 'live', content: 'live one' });
    await page.waitForSelector(`#messages li[data-seq="${last + 1}"]`);
    expect(await shownSeqs(page)).toEqual(range(1, last + 1));
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'scrolling to the top loads the earlier page and keeps what was on screen where it was',
  async () => {
    const { page, errors, last } = await openLong(120);
    // Two scrolls to the top: a full earlier page, then the last one (1 .. first - 51), after which the
    // button goes: the view must not jump either time.
    for (const first of [last - 49, last - 99]) {
      // Where the first shown record is on screen once the list is at its top (before the earlier page is in).
      const before = await page.evaluate((f) => {
        document.getElementById('scroller')!.scrollTop = 0;
        return document.querySelector(`#messages li[data-seq="${f}"]`)!.getBoundingClientRect().top;
      }, first);
      await page.waitForSelector(`#messages li[data-seq="${Math.max(1, first - 50)}"]`);
      const after = await page.evaluate((f) => document.querySelector(`#messages li[data-seq="${f}"]`)!.getBoundingClientRect().top, first);
      expect(Math.abs(after - before)).toBeLessThanOrEqual(1);
      expect(await shownSeqs(page)).toEqual(range(Math.max(1, first - 50), last));
    }
    expect(await page.isVisible('#history')).toBe(false);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'a message posted between the HTTP read and the socket connect shows exactly once, after the page',
  async () => {
    // The latest page is read, then bob posts, then the page gets the answer and connects.
    const { page, errors, sockets, last } = await openLong(80, {}, (page, stack) =>
      page.route(
        (url) => url.pathname === '/chat/conversations/long/messages',
        async (route) => {
          const response = await route.fetch();
          await stack.runtime.post('long', { sender_id: 'bob', message_id: 'between', content: 'posted in between' });
          await route.fulfill({ response });
        },
        { times: 1 },
      ),
    );
    await page.waitForSelector(`#messages li[data-seq="${last + 1}"]`);

    expect(await shownSeqs(page)).toEqual(range(last - 49, last + 1));
    expect(await page.locator('#messages .piece', { hasText: 'posted in between' }).count()).toBe(1);
    expect(sockets.urls.map((u) => u.searchParams.get('last_sequence_id'))).toEqual([String(last)]);
    expect(sockets.delivered).toEqual([last + 1]);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'an answer whose pieces straddle the page boundary is one bubble once the earlier page is in, where a full read puts it',
  async () => {
    const PIECES = ['piece one', 'piece two', 'piece three', 'piece four'];
    const agent = steppedAgent(PIECES, (m) => m.content === 'ask');
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('answer', ['alice', 'bob'], ['nlweb']);
    await fill(stack, 'answer', 20);
    const pieceSeqs: number[] = [];
    let pieceArrived: (() => void) | undefined;
    const sub = await stack.runtime.subscribe('answer', 'bob', (o: ConversationOutput) => {
      if (o.type === 'message' && o.message.sender_type === 'ai' && o.message.content !== '') {
        pieceSeqs.push(o.message.sequence_id);
        pieceArrived?.();
      }
    });
    const nextPiece = async (): Promise<void> => {
      const arrived = new Promise<void>((resolve) => (pieceArrived = resolve));
      agent.release();
      await arrived;
    };
    await stack.runtime.post('answer', { sender_id: 'alice', message_id: 'ask', content: 'ask' });
    await nextPiece();
    await nextPiece();
    // Bob speaks in the middle of the answer: a full read still shows the answer as one bubble, above him.
    const bobSeq = (await stack.runtime.post('answer', { sender_id: 'bob', message_id: 'mid', content: 'bob in between' })).sequence_id;
    await nextPiece();
    await nextPiece();
    sub.close();
    // The latest page starts at piece three.
    let last = pieceSeqs[3]!;
    for (let i = 0; last < pieceSeqs[2]! + 49; i++)
      last = (await stack.runtime.post('answer', { sender_id: 'bob', message_id: `after${i}`, content: `after ${i}` })).sequence_id;
    expect(last).toBe(pieceSeqs[2]! + 49);

    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=answer`);
    await page.waitForSelector('#state[data-state="open"]');
    const bubbles = page.locator('#messages li.ai');
    expect(await bubbles.count()).toBe(1);
    expect(await bubbles.locator('.piece').allTextContents()).toEqual(['piece three', 'piece four']);

    await loadEarlier(page);
    expect(await bubbles.count()).toBe(1);
    expect(await bubbles.locator('.who').count()).toBe(1);
    expect(await bubbles.locator('.piece').allTextContents()).toEqual(PIECES);
    // The bubble sits where its first piece is, above bob's message that came between its pieces.
    const order = await shownSeqs(page);
    expect(order.indexOf(pieceSeqs[0]!)).toBeLessThan(order.indexOf(bobSeq));
    expect(order.slice(order.indexOf(pieceSeqs[0]!), order.indexOf(pieceSeqs[0]!) + 4)).toEqual(pieceSeqs);
    expect(new Set(order).size).toBe(order.length);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'when the server no longer holds older messages the page says so and offers no more',
  async () => {
    const store = new MemoryStore({ maxRecordsPerConversation: 80 });
    await store.open();
    stores.push(store);
    const { page, errors, last } = await openLong(200, { store, config: { chat: { cache: { recent_messages: 2 } } } });
    expect(await page.textContent('#history-note')).toBe('');
    while (await page.isVisible('#load-earlier'))
      await pressLoadEarlier(page).then(() =>
        page.waitForFunction(() => {
          const b = document.getElementById('load-earlier') as HTMLButtonElement;
          return !b.disabled;
        }),
      );
    expect(await page.textContent('#history-note')).toBe('Older messages are no longer kept on the server.');
    const shown = await shownSeqs(page);
    expect(shown).toEqual(range(shown[0]!, last));
    expect(shown[0]).toBeGreaterThan(1);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'when the latest page cannot be read the socket brings the latest 50 (history=50), not the whole conversation; earlier pages come over HTTP',
  async () => {
    let refusing = true;
    const { page, sockets, last } = await openLong(130, {}, (page) =>
      page.route(
        (url) => url.pathname === '/chat/conversations/long/messages',
        (route) =>
          refusing
            ? route.fulfill({ status: 503, contentType: 'application/json', body: '{"error":"STORAGE_ERR_UNAVAILABLE"}' })
            : route.continue(),
      ),
    );
    await page.waitForSelector(`#messages li[data-seq="${last}"]`);
    expect(await shownSeqs(page)).toEqual(range(last - 49, last));
    expect(sockets.urls.map((u) => [u.searchParams.get('last_sequence_id'), u.searchParams.get('history')])).toEqual([['0', '50']]);
    expect(sockets.delivered).toEqual(range(last - 49, last));
    // The socket's sync_complete said older records exist: they are read over HTTP, before the first one shown.
    await page.waitForSelector('#load-earlier', { state: 'visible' });
    refusing = false;
    while (await page.isVisible('#load-earlier')) await loadEarlier(page);
    expect(await shownSeqs(page)).toEqual(range(1, last));
  },
  60_000,
);

// The latest page is shown before the socket brings the member list: its lines were named by id ("bob") for good,
// while live ones and the member list said "Bob". Found reloading the page on the stand-in's answers ("nlweb", not "NLWeb").
maybe(
  'messages read from history name their senders by display name once the member list arrives',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.runtime.createConversation({
      conversation_id: 'named',
      title: 'named',
      created_by: 'alice',
      participants: [
        { participant_id: 'alice', participant_type: 'human', role: 'owner', display_name: 'Alice A.' },
        { participant_id: 'bob', participant_type: 'human', role: 'member', display_name: 'Bob B.' },
      ],
      autoJoinAgents: false,
    });
    await stack.runtime.post('named', { sender_id: 'bob', message_id: 'b1', content: 'from history' });
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=named`);
    await page.waitForSelector('#participant-list li[data-id="bob"]');
    expect(await page.textContent('#messages li.other .who')).toBe('Bob B.');

    await page.fill('#input', 'live one');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine:not(.pending) .who');
    expect(await page.textContent('#messages li.mine:not(.pending) .who')).toBe('Alice A.');
    expect(errors).toEqual([]);
  },
  60_000,
);
