/**
 * The Server-Sent Events fallback (docs/sse.md) read by a real EventSource in Chromium: the browser's own reconnect,
 * after the connection drops, sends Last-Event-ID and resumes with no record missed or repeated, while another
 * member posts over HTTP. Chromium: ./chromium.ts.
 */
import type { IncomingMessage } from 'node:http';
import type { Socket } from 'node:net';
import type { Browser } from 'playwright-core';
import { closeAll, startHarness, type Harness } from '../gateway/harness';
import { browserTest, launchChromium } from './chromium';

const maybe = browserTest('sse-eventsource-browser.test');
let browser: Browser | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await closeAll();
});

interface PageState {
  seen: Array<[string, number, string]>;
  opens: number;
  es: EventSource;
}

async function post(h: Harness, conv: string, content: string): Promise<number> {
  const res = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: content, content });
  expect(res.status).toBe(201);
  return res.body.sequence_id as number;
}

maybe("EventSource's own reconnect resumes with Last-Event-ID: every record once, in order", async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice', ['bob']);
  const streams: Array<{ lastEventId: string | undefined; socket: Socket }> = [];
  h.server.server.on('request', (req: IncomingMessage) => {
    if (req.url?.includes('/events')) streams.push({ lastEventId: req.headers['last-event-id'] as string | undefined, socket: req.socket });
  });
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${h.url}/livez`);
  const url = `/chat/conversations/${conv}/events?token=${h.token('bob')}`;
  await page.evaluate((streamUrl) => {
    const state = window as unknown as PageState;
    state.seen = [];
    state.opens = 0;
    state.es = new EventSource(streamUrl);
    state.es.addEventListener('connected', () => state.opens++);
    state.es.addEventListener('message', (e) => {
      const frame = JSON.parse(e.data) as { message: { sequence_id: number; content: string } };
      state.seen.push([e.lastEventId, frame.message.sequence_id, frame.message.content]);
    });
  }, url);
  await page.waitForFunction(() => (window as unknown as PageState).opens === 1);

  const ids = [await post(h, conv, 'b1'), await post(h, conv, 'b2')];
  await page.waitForFunction(() => (window as unknown as PageState).seen.length === 2);
  // The connection drops (a proxy cutting it): EventSource reconnects by itself after the server's retry hint.
  streams[0]!.socket.destroy();
  ids.push(await post(h, conv, 'b3'), await post(h, conv, 'b4'));
  await page.waitForFunction(() => (window as unknown as PageState).opens === 2, undefined, { timeout: 15_000 });
  ids.push(await post(h, conv, 'b5'));
  await page.waitForFunction(() => (window as unknown as PageState).seen.length >= 5);

  const seen = await page.evaluate(() => {
    const state = window as unknown as PageState;
    state.es.close();
    return state.seen;
  });
  expect(seen).toEqual(ids.map((id, i) => [String(id), id, `b${i + 1}`]));
  expect(streams.map((s) => s.lastEventId)).toEqual([undefined, String(ids[1])]);
});
