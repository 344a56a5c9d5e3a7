/**
 * The chat page after a crash during a storage outage: the server that took over handed out again ids the page had
 * drawn (docs/conversations.md, Resume after a crash). Its client names its last record on resume, the server
 * answers with a `reset`, and the page opens the conversation afresh: it shows the journal's records, not the ones
 * it drew before (it kept those until a reload). Two real servers on one store (the first never closed: what a
 * kill -9 leaves), a TCP proxy as the page's origin that stays, Chromium. Chromium: ./chromium.ts.
 */
import type { Browser } from 'playwright-core';
import { createManualClock } from '../../actors/clock';
import { LEASE_BLOCK } from '../../actors/sequence-lease';
import { mountWebClient } from '../../client/web/mount-web-client';
import { browserTest, launchChromium } from './chromium';
import { freeCrashedServer, OutageMemoryStore, type CrashedServer } from './outage-store';
import { collectErrors } from './page-session';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';

const maybe = browserTest('chat-page-reset-browser.test');

async function settle(rounds = 20): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

let browser: Browser | undefined;
let proxy: TcpProxy | undefined;
let store: OutageMemoryStore | undefined;
const stacks: RealStack[] = [];
/** The crashed server's runtime, closed at the end only to free it: its manual clock moves the close's deadline. */
let crashed: CrashedServer | undefined;

afterEach(async () => {
  await browser?.close();
  await proxy?.close();
  for (const s of stacks.splice(0)) await s.close();
  if (crashed !== undefined) await freeCrashedServer(crashed);
  crashed = undefined;
  await store?.close();
  browser = proxy = store = undefined;
});

maybe(
  'ids handed out again after the crash: the page is reset and shows the journal, not the records it drew',
  async () => {
    store = new OutageMemoryStore();
    await store.open();
    const withPage = { extraRoutes: (app: Parameters<typeof mountWebClient>[0]) => mountWebClient(app) };
    const firstClock = createManualClock();
    const first = await startRealStack({ store, runtimeClock: firstClock, ...withPage });
    crashed = { stack: first, clock: firstClock };
    await first.createConversation('conv', ['alice', 'bob']);
    let port = first.port;
    proxy = await startTcpProxy(() => port);

    browser = await launchChromium();
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${proxy.url.replace(/^ws/, 'http')}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    // Storage goes down: bob's messages are still sequenced and delivered, past the reservation, and not stored.
    store.down = true;
    let last = 0;
    for (let i = 0; i < 2 * LEASE_BLOCK; i++) {
      last = (await first.runtime.post('conv', { sender_id: 'bob', message_id: `b${i}`, content: `before ${i}` })).sequence_id;
      await settle(2);
    }
    await page.waitForSelector(`#messages li[data-seq="${last}"]`);
    expect(await page.textContent(`#messages li[data-seq="${last}"]`)).toContain(`before ${2 * LEASE_BLOCK - 1}`);

    // kill -9: the first server goes without a stop; storage is back; the second takes over and numbers past the
    // old reservation, through the ids the page shows.
    await first.stopServer();
    await page.waitForSelector('#state:not([data-state="open"])');
    store.down = false;
    const second = await startRealStack({ store, ...withPage });
    stacks.push(second);
    port = second.port;
    let next = { sequence_id: 0, whenPersisted: Promise.resolve() as Promise<unknown> };
    for (let i = 0; next.sequence_id < last + 3; i++) {
      next = await second.runtime.post('conv', { sender_id: 'bob', message_id: `a${i}`, content: `after ${i}` });
    }
    await next.whenPersisted;
    const journal = await store.readMessages('conv', 0, 10_000);
    const atLast = journal.find((m) => m.sequence_id === last)!;
    expect(atLast.content).toMatch(/^after /);

    // The page reconnects by itself (its backoff) or at once with "retry now"; either way it resumes naming its
    // last record, is reset, and opens the conversation again from the journal.
    await page.waitForSelector(`#messages li[data-seq="${next.sequence_id}"]`, { timeout: 20_000 });
    expect(await page.textContent(`#messages li[data-seq="${last}"]`)).toContain(atLast.content);
    const drawn = await page.$$eval('#messages li[data-seq]', (lines) => lines.map((li) => li.textContent ?? ''));
    // Nothing the journal does not hold: every "before" message the page still shows is one the journal stored.
    const stored = new Set(journal.filter((m) => m.content.startsWith('before ')).map((m) => m.content));
    const shownBefore = drawn.flatMap((text) => text.match(/before \d+/g) ?? []);
    expect(shownBefore.filter((content) => !stored.has(content))).toEqual([]);
    // Each "after" message once.
    const shownAfter = drawn.flatMap((text) => text.match(/after \d+/g) ?? []);
    expect(shownAfter.length).toBe(new Set(shownAfter).size);
    expect(errors.filter((e) => !e.includes('WebSocket'))).toEqual([]);
  },
  60_000,
);
