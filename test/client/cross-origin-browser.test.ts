/**
 * A page of another site calling the chat server from real Chromium (server.allowed_origins; docs/security.md,
 * Browser origins): CORS is the browser's own check, so only a browser shows whether the preflight and answer
 * headers satisfy it. The page is served by a second server on another port (another origin); it posts with a
 * bearer token (a preflighted request) and opens a socket. Listed: both work. Not listed: the browser blocks the
 * answer and the socket is refused. Chromium: ./chromium.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { closeAll, startHarness, type Harness } from '../gateway/harness';
import { browserTest, launchChromium } from './chromium';

const maybe = browserTest('cross-origin-browser.test');
let browser: Browser | undefined;
let appServer: http.Server | undefined;

afterEach(async () => {
  await browser?.close();
  browser = undefined;
  await new Promise<void>((resolve) => (appServer ? appServer.close(() => resolve()) : resolve()));
  appServer = undefined;
  await closeAll();
});

/** Another site: one empty page on 127.0.0.1, another port. Returns its origin. */
async function startAppSite(): Promise<string> {
  appServer = http.createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/html' });
    res.end('<!doctype html><title>app</title><p>another site</p>');
  });
  await new Promise<void>((resolve) => appServer!.listen(0, '127.0.0.1', () => resolve()));
  return `http://127.0.0.1:${(appServer.address() as AddressInfo).port}`;
}

/** From the app's page: creates a conversation over HTTP, then opens its socket; says how each went. */
async function callFromApp(appOrigin: string, chat: Harness, existing = '') {
  browser = await launchChromium();
  const page = await browser.newPage();
  await page.goto(`${appOrigin}/`);
  return page.evaluate(
    async ({ base, token, existing }) => {
      let created: string;
      let conversationId = existing;
      try {
        const res = await fetch(`${base}/chat/conversations`, {
          method: 'POST',
          headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' },
          body: JSON.stringify({ title: 'from another site', auto_join_agents: false }),
        });
        const body = (await res.json()) as { conversation_id: string };
        conversationId ||= body.conversation_id;
        created = `${res.status} ${res.headers.get('Location') === null ? 'no Location' : 'Location readable'}`;
      } catch (err) {
        created = `blocked: ${(err as Error).name}`;
      }
      const socket = await new Promise<string>((resolve) => {
        const ws = new WebSocket(`${base.replace(/^http/, 'ws')}/chat/ws/${conversationId || 'any'}?token=${token}`);
        ws.onmessage = (e) => {
          const frame = JSON.parse(String(e.data)) as { type: string };
          if (frame.type === 'connected') {
            ws.close();
            resolve('connected');
          }
        };
        ws.onclose = (e) => resolve(`closed ${e.code}`);
      });
      return { created, socket };
    },
    { base: chat.url, token: chat.token('alice'), existing },
  );
}

maybe('a listed site: the preflighted POST is answered and readable, its socket connects', async () => {
  const appOrigin = await startAppSite();
  const chat = await startHarness({ server: { allowed_origins: [appOrigin] } });
  expect(await callFromApp(appOrigin, chat)).toEqual({ created: '201 Location readable', socket: 'connected' });
  expect((await chat.request('GET', '/chat/conversations', 'alice')).body.conversations).toHaveLength(1);
});

maybe('a site not listed: the browser blocks the call, nothing is created, a socket to an existing conversation is refused', async () => {
  const appOrigin = await startAppSite();
  const chat = await startHarness();
  // Alice's own conversation: another site's page must not open it with her credentials.
  const own = await chat.createConversation('alice');
  expect(await callFromApp(appOrigin, chat, own)).toEqual({ created: 'blocked: TypeError', socket: 'closed 1006' });
  const listed = (await chat.request('GET', '/chat/conversations', 'alice')).body.conversations as Array<{ conversation_id: string }>;
  expect(listed.map((c) => c.conversation_id)).toEqual([own]);
});
