/**
 * Read state on the chat page (docs/client.md, In a browser): unread badges in the conversation list from the list's
 * `unread_count`, marking read what the user sees (page visible, messages scrolled to their end), and "Seen by"
 * under the user's latest message from the others' read positions. Two pages (alice, bob) against the real server
 * (dev auth); alice's page on a clock the test moves (the list's 30 s refresh). Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { LIST_REFRESH_INTERVAL_MS } from '../../client/web/list-refresh';
import { MARK_READ_INTERVAL_MS } from '../../client/web/read-marker';
import { TYPING_REFRESH_MS } from '../../client/web/typing-announcer';
import { browserTest } from './chromium';
import { collectErrors, pageSessions, switchTab } from './page-session';

const maybe = browserTest('chat-page-read-state-browser.test');
const session = pageSessions();

interface ReadFrame {
  /** The conversation of the socket it went over. */
  readonly conversation: string;
  /** A `typing: true` frame instead of a `read` (typeProbe below): where it falls among the reads. */
  readonly probe?: true;
  readonly participant_id?: string;
  readonly sequence_id: number;
}

/** The `read` frames a page's sockets send or receive, in order; `seen(pred)` waits for one that matches. */
function readFrames(page: Page, direction: 'framesent' | 'framereceived') {
  const frames: ReadFrame[] = [];
  let waiting: Array<{ pred: (f: ReadFrame) => boolean; resolve: () => void }> = [];
  page.on('websocket', (ws) => {
    const conversation = decodeURIComponent(new URL(ws.url()).pathname.split('/').at(-1)!);
    const onFrame = (frame: { payload: string | Buffer }): void => {
      const text = typeof frame.payload === 'string' ? frame.payload : frame.payload.toString('utf8');
      const parsed = JSON.parse(text) as {
        type?: string;
        participant_id?: string;
        sequence_id: number;
        is_typing?: boolean;
        positions?: Record<string, number>;
      };
      // The page's client asks for batches where the server offers them: a `read_batch` is one entry per member here.
      if (parsed.type === 'read_batch') {
        for (const [participantId, sequenceId] of Object.entries(parsed.positions!))
          take({ conversation, participant_id: participantId, sequence_id: sequenceId });
        return;
      }
      const probe = parsed.type === 'typing' && parsed.is_typing === true;
      if (parsed.type !== 'read' && !probe) return;
      take({
        conversation,
        ...(probe ? { probe: true as const } : {}),
        ...(parsed.participant_id !== undefined ? { participant_id: parsed.participant_id } : {}),
        sequence_id: probe ? 0 : parsed.sequence_id,
      });
    };
    const take = (f: ReadFrame): void => {
      frames.push(f);
      for (const w of waiting) if (w.pred(f)) w.resolve();
      waiting = waiting.filter((w) => !w.pred(f));
    };
    if (direction === 'framesent') ws.on('framesent', onFrame);
    else ws.on('framereceived', onFrame);
  });
  return {
    frames,
    /** The `read` frames (a `read_batch`'s entries, and probes) of one conversation's sockets. */
    in: (conversation: string) => frames.filter((f) => f.conversation === conversation).map(({ conversation: _, ...f }) => f),
    seen: (pred: (f: ReadFrame) => boolean) =>
      frames.some(pred) ? Promise.resolve() : new Promise<void>((resolve) => waiting.push({ pred, resolve })),
  };
}

/**
 * Makes the page send a frame that is not a mark (typing: true; a new one, the last said more than 3 s ago) and waits
 * for it: frames go in order over one socket, so a mark the page made before this shows before it in the log.
 */
async function typeProbe(page: Page, sent: ReturnType<typeof readFrames>): Promise<void> {
  const probes = sent.frames.filter((f) => f.probe).length;
  await page.clock.runFor(TYPING_REFRESH_MS);
  await page.type('#input', 'x');
  await sent.seen(() => sent.frames.filter((f) => f.probe).length > probes);
  await page.fill('#input', '');
}

/** The id of the last record a page shows. */
const lastShown = async (page: Page): Promise<number> =>
  Number(await page.locator('#messages li[data-seq]').last().getAttribute('data-seq'));

async function post(page: Page, text: string): Promise<void> {
  await page.fill('#input', text);
  await page.press('#input', 'Enter');
  await page.waitForSelector(`#messages li.mine[data-seq]:has-text("${text}")`);
}

const badge = (page: Page, id: string) => page.locator(`#conversations li[data-id="${id}"] .unread`);

maybe(
  'bob posts while alice is elsewhere: her list shows 3, opening it clears it, bob hears her read position and sees "Seen by alice"',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice', 'bob']);
    await stack.createConversation('other', ['alice']);
    const alicePage = await browser.newPage();
    const bobPage = await browser.newPage();
    const errors = [...collectErrors(alicePage), ...collectErrors(bobPage)];
    const aliceSent = readFrames(alicePage, 'framesent');
    const bobReceived = readFrames(bobPage, 'framereceived');
    await alicePage.clock.install({ time: 0 });
    await alicePage.goto(`${origin}/?user_id=alice&conversation=other`);
    await alicePage.waitForSelector('#state[data-state="open"]');
    await bobPage.goto(`${origin}/?user_id=bob&conversation=trip`);
    await bobPage.waitForSelector('#state[data-state="open"]');

    for (const text of ['train at 9?', 'or the 10:15', 'tell me when you see this']) await post(bobPage, text);
    const lastSeq = Number(await bobPage.locator('#messages li.mine[data-seq]').last().getAttribute('data-seq'));
    // Alice has not read them: nothing under bob's message.
    expect(await bobPage.locator('#messages .seen-by').count()).toBe(0);

    // Alice's list was read before bob posted; the next refresh (30 s, no request of its own) brings the count.
    expect(await badge(alicePage, 'trip').count()).toBe(0);
    await alicePage.clock.runFor(LIST_REFRESH_INTERVAL_MS);
    await badge(alicePage, 'trip').waitFor();
    expect(await badge(alicePage, 'trip').textContent()).toBe('3 unread');
    expect(await badge(alicePage, 'trip').isVisible()).toBe(true);
    // The open conversation has none.
    expect(await badge(alicePage, 'other').count()).toBe(0);

    // She opens it: the badge goes at once, her page marks the last record read, and bob's socket hears it.
    await alicePage.click('#conversations li[data-id="trip"]');
    expect(await badge(alicePage, 'trip').count()).toBe(0);
    await alicePage.waitForSelector('#state[data-state="open"]');
    await aliceSent.seen((f) => f.conversation === 'trip');
    expect(aliceSent.in('trip')).toEqual([{ sequence_id: lastSeq }]);
    await bobReceived.seen((f) => f.participant_id === 'alice' && f.sequence_id === lastSeq);
    // Before it, only positions below bob's messages (alice's join, bob's own marks).
    expect(bobReceived.in('trip').filter((f) => f.participant_id === 'alice')).toEqual([{ participant_id: 'alice', sequence_id: lastSeq }]);
    const seen = bobPage.locator('#messages li.mine[data-seq]').last().locator('.seen-by');
    await seen.waitFor();
    expect(await seen.textContent()).toBe('Seen by alice');
    expect(await bobPage.locator('#messages .seen-by').count()).toBe(1);

    // Back to the other conversation: trip's badge stays gone (the list still holds the count read before), and the
    // server's next list agrees.
    await alicePage.click('#conversations li[data-id="other"]');
    await alicePage.waitForSelector('#conversations li[data-id="other"].active');
    expect(await badge(alicePage, 'trip').count()).toBe(0);
    const listed = alicePage.waitForResponse((r) => new URL(r.url()).pathname === '/chat/conversations');
    await alicePage.clock.runFor(LIST_REFRESH_INTERVAL_MS);
    const body = (await (await listed).json()) as { conversations: Array<{ conversation_id: string; unread_count: number }> };
    expect(body.conversations.find((c) => c.conversation_id === 'trip')?.unread_count).toBe(0);
    expect(await badge(alicePage, 'trip').count()).toBe(0);

    // Bob writes again: the line moves to his newest message, empty until alice reads that one too.
    await post(bobPage, 'anyone?');
    await bobPage.waitForFunction(() => document.querySelectorAll('#messages .seen-by').length === 0);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'a hidden tab or a list scrolled up marks nothing; showing the tab or scrolling to the end marks the latest, once per burst',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice', 'bob']);
    const alicePage = await browser.newPage({ viewport: { width: 1200, height: 600 } });
    const errors = collectErrors(alicePage);
    const aliceSent = readFrames(alicePage, 'framesent');
    await alicePage.clock.install({ time: 0 });
    await alicePage.goto(`${origin}/?user_id=alice&conversation=trip`);
    await alicePage.waitForSelector('#state[data-state="open"]');
    // Opening it marks what it shows (the joins).
    const opened = await lastShown(alicePage);
    await aliceSent.seen(() => true);
    expect(aliceSent.in('trip')).toEqual([{ sequence_id: opened }]);
    let posted = 0;
    const bobPosts = async (n: number): Promise<number> => {
      let seq = 0;
      for (let i = 0; i < n; i += 1) {
        posted += 1;
        const rec = await stack.runtime.post('trip', { sender_id: 'bob', message_id: `b${posted}`, content: `message ${posted}` });
        seq = rec.sequence_id;
      }
      await alicePage.waitForSelector(`#messages li[data-seq="${seq}"]`);
      return seq;
    };

    // Hidden: 2 messages arrive and nothing is marked; shown again, the latest is marked.
    await switchTab(alicePage, 'away');
    await bobPosts(2);
    await alicePage.clock.runFor(MARK_READ_INTERVAL_MS);
    await typeProbe(alicePage, aliceSent);
    await switchTab(alicePage, 'back');
    await alicePage.clock.runFor(MARK_READ_INTERVAL_MS);
    const afterHidden = await lastShown(alicePage);
    await aliceSent.seen((f) => f.sequence_id === afterHidden);
    // Nothing between opening and the probe made while hidden: the mark came after she was back.
    expect(aliceSent.in('trip')).toEqual([{ sequence_id: opened }, { probe: true, sequence_id: 0 }, { sequence_id: afterHidden }]);

    // A burst of 20 while she is at the end: marked with the latest, in at most two frames (not twenty).
    const beforeBurst = aliceSent.frames.length;
    const burstEnd = await bobPosts(20);
    await alicePage.clock.runFor(MARK_READ_INTERVAL_MS);
    await aliceSent.seen((f) => f.sequence_id === burstEnd);
    const burstFrames = aliceSent.frames.length - beforeBurst;
    expect(burstFrames).toBeLessThanOrEqual(2);
    console.log(`read frames for a burst of 20 records seen at the end: ${burstFrames}`);

    // Scrolled up to read older messages: 3 more arrive, nothing marked; scrolling to the end marks the last.
    await alicePage.evaluate(() => (document.getElementById('scroller')!.scrollTop = 0));
    const scrolledUpAt = aliceSent.frames.length;
    const lastWhileUp = await bobPosts(3);
    await alicePage.clock.runFor(MARK_READ_INTERVAL_MS);
    await typeProbe(alicePage, aliceSent);
    await alicePage.evaluate(() => {
      const scroller = document.getElementById('scroller')!;
      scroller.scrollTop = scroller.scrollHeight;
    });
    await alicePage.clock.runFor(MARK_READ_INTERVAL_MS);
    await aliceSent.seen((f) => f.sequence_id === lastWhileUp);
    expect(aliceSent.in('trip').slice(scrolledUpAt)).toEqual([{ probe: true, sequence_id: 0 }, { sequence_id: lastWhileUp }]);
    expect(errors).toEqual([]);
  },
  60_000,
);
