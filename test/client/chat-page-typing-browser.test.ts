/**
 * Typing indicators between two chat pages. A page shows another member as typing for 5 s after their last
 * `typing: true`; the page said `true` once per typing session, so someone typing a long message for more than
 * 5 s vanished from everyone's indicator while still typing. Now a page that keeps typing says so again every 3 s.
 * Both pages run on clocks only the test moves (Playwright's page.clock); the frames between them are real.
 * Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { createSystemClock, type Clock } from '../../actors/clock';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-typing-browser.test');
const session = pageSessions();

/** Counts the `typing` frames with is_typing true that a page's sockets send or receive; `reached(n)` waits for n. */
function typingFrames(page: Page, direction: 'framesent' | 'framereceived') {
  let count = 0;
  let waiting: Array<{ n: number; resolve: () => void }> = [];
  const onFrame = (frame: { payload: string | Buffer }): void => {
    const text = typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('utf8');
    if (!text.includes('"type":"typing"') || !text.includes('"is_typing":true')) return;
    count += 1;
    for (const w of waiting) if (count >= w.n) w.resolve();
    waiting = waiting.filter((w) => count < w.n);
  };
  page.on('websocket', (ws) => {
    if (direction === 'framesent') ws.on('framesent', onFrame);
    else ws.on('framereceived', onFrame);
  });
  return {
    get count() {
      return count;
    },
    reached: (n: number) => (count >= n ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ n, resolve }))),
  };
}

/**
 * The server's conversation clock when the pages' clocks jump: real time (its timers too), plus the time the test
 * moved the pages on. The server relays a repeated `typing: true` only 2 s after the last one it relayed
 * (actors/typing-display.ts), by its clock: on real time alone, the page's repeats 3 s apart by the page's clock
 * would reach it milliseconds apart.
 */
function clockMovedWithPages(): Clock & { moveOn(ms: number): void } {
  const real = createSystemClock();
  let movedMs = 0;
  return {
    now: () => real.now() + movedMs,
    setTimeout: (fn, ms) => real.setTimeout(fn, ms),
    clearTimeout: (handle) => real.clearTimeout(handle),
    moveOn: (ms) => void (movedMs += ms),
  };
}

maybe('someone typing for 7 s stays shown as typing on the other page the whole time, and goes 5 s after they stop', async () => {
  const serverClock = clockMovedWithPages();
  const { stack, browser, origin } = await session({ runtimeClock: serverClock });
  await stack.createConversation('trip', ['alice', 'bob']);
  const alicePage = await browser.newPage();
  const bobPage = await browser.newPage();
  const errors = [...collectErrors(alicePage), ...collectErrors(bobPage)];
  const sent = typingFrames(alicePage, 'framesent');
  const received = typingFrames(bobPage, 'framereceived');
  for (const [page, user] of [
    [alicePage, 'alice'],
    [bobPage, 'bob'],
  ] as const) {
    await page.clock.install({ time: 0 });
    await page.goto(`${origin}/?user_id=${user}&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
  }
  const bobSees = () => bobPage.textContent('#typing');

  // Alice types a character every second for 7 s; the frames travel for real, the clocks move together.
  for (let second = 0; second <= 7; second++) {
    await alicePage.type('#input', 'x');
    // Said at 0, 3 and 6 s while the typing goes on (every 3 s), and received by bob before his clock moves on.
    const said = Math.floor(second / 3) + 1;
    await sent.reached(said);
    await received.reached(said);
    expect([second, await bobSees()]).toEqual([second, 'alice is typing…']);
    await alicePage.clock.runFor(1000);
    await bobPage.clock.runFor(1000);
    serverClock.moveOn(1000);
  }
  // Said at 0, 3 and 6 s (every 3 s while typing goes on), not once.
  expect(sent.count).toBe(3);

  // She stops: her page says false after 2 s, which the server shows the others after its 1 s hold (real time here);
  // had she not said it (a closed tab), bob's indicator would still go after 5 s.
  await alicePage.clock.runFor(2000);
  await bobPage.waitForFunction(() => document.getElementById('typing')?.textContent === '');
  expect(errors).toEqual([]);
});
