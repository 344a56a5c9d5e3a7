/**
 * The browser chat page in a real Chromium (playwright-core) against the real server with the echo
 * agent: create a conversation in the UI, type a message, see it and the agent's answer. And a refused
 * upgrade as a browser sees it: close 1006 over plain HTTP, the coded close on the refusal subprotocol.
 * And the page's client behind a proxy that strips the subprotocol: it falls back to offering none.
 * And who is online, in the participant list.
 * Chromium: ./chromium.ts.
 */
import { existsSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import jwt from 'jsonwebtoken';
import type { Browser } from 'playwright-core';
import { createEchoAgent } from '../../actors';
import type { ChatClient, ChatClientOptions } from '../../client';
import { mountWebClient } from '../../client/web/mount-web-client';
import { browserTest, launchChromium } from './chromium';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';

const maybe = browserTest('chat-page-browser.test');

let stack: RealStack | undefined;
let browser: Browser | undefined;
let proxy: TcpProxy | undefined;

afterEach(async () => {
  await browser?.close();
  await proxy?.close();
  await stack?.close();
  browser = undefined;
  proxy = undefined;
  stack = undefined;
});

maybe(
  'type a message in the page and see it with the echo answer',
  async () => {
    stack = await startRealStack({ agents: [createEchoAgent()], extraRoutes: (app) => mountWebClient(app) });
    browser = await launchChromium();
    const page = await browser.newPage();
    const pageErrors: string[] = [];
    page.on('pageerror', (err) => pageErrors.push(err.message));
    // Failed loads (e.g. a 404 for /favicon.ico, which Chromium asks for on its own) show up as console errors.
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${stack.port}/?user_id=alice`);

    const t0 = Date.now();
    await page.fill('#create-title', 'Browser test');
    await page.fill('#create-agents', 'echo');
    await page.click('#create-button');
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#participant-list li:has-text("echo")');

    await page.fill('#input', 'hello from chromium');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine .text:text-is("hello from chromium")');
    await page.waitForSelector('#messages li.ai .piece:text-is("echo: hello from chromium")');

    const shot = path.join(os.tmpdir(), `nlweb-chat-page-${process.pid}.png`);
    await page.screenshot({ path: shot });
    expect(existsSync(shot)).toBe(true);
    console.log(`chat page screenshot: ${shot} (page flow ${Date.now() - t0} ms)`);

    // The page's conversation exists server-side with both records, in order.
    const list = await stack.runtime.listConversations('alice');
    expect(list.map((c) => c.title)).toEqual(['Browser test']);
    const journal = await stack.runtime.readMessages(list[0]!.conversation_id, 0, 100);
    const texts = journal.filter((m) => m.sender_type !== 'system' && m.message_type !== 'join').map((m) => `${m.sender_id}: ${m.content}`);
    expect(texts).toEqual(['alice: hello from chromium', 'echo: echo: hello from chromium']);
    // Every message confirmed as persisted: the page shows no pending count.
    await page.waitForSelector('#pending:empty', { state: 'attached' });
    expect(pageErrors).toEqual([]);
    expect(consoleErrors).toEqual([]);

    // A non-member opening the conversation by URL is offered to join instead of retrying the socket
    // (joining from a link: chat-page-links-browser.test.ts).
    const other = await browser.newPage();
    await other.goto(`http://127.0.0.1:${stack.port}/?user_id=mallory&conversation=${encodeURIComponent(list[0]!.conversation_id)}`);
    await other.waitForSelector('#join-offer:not(.hidden)');
    expect(await other.getAttribute('#state', 'data-state')).toBe('idle');
  },
  60_000,
);

/** What a socket opened in the page saw: its selected subprotocol and its close. */
interface BrowserClose {
  readonly protocol: string;
  readonly code: number;
  readonly reason: string;
}

/** What the reference client in the page did: its events in order, ending with `closed`. */
type ClientRun = readonly (readonly [string, unknown])[];

declare const window: { nlwebChat: { createChatClient(options: ChatClientOptions): ChatClient } };

maybe(
  'a wrong token or a non-member: the page gets the coded close and does not retry',
  async () => {
    const secret = 'browser-refusal-secret';
    stack = await startRealStack({
      config: { server: { auth: { mode: 'jwt', jwt_secret: secret } } },
      extraRoutes: (app) => mountWebClient(app),
    });
    await stack.createConversation('conv', ['alice']);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${stack.port}/`);
    const socketUrl = (token: string): string => `ws://127.0.0.1:${stack!.port}/chat/ws/conv?token=${encodeURIComponent(token)}`;

    // The browser itself: a plain refusal (HTTP 401) is only close 1006; with the subprotocol it is 4001.
    const rawClose = (url: string, protocols: string[]): Promise<BrowserClose> =>
      page.evaluate(
        ([u, p]) =>
          new Promise<BrowserClose>((resolve) => {
            const ws = new WebSocket(u, p);
            ws.onclose = (e) => resolve({ protocol: ws.protocol, code: e.code, reason: e.reason });
          }),
        [url, protocols] as const,
      );
    expect(await rawClose(socketUrl('not-a-jwt'), [])).toEqual({ protocol: '', code: 1006, reason: '' });
    expect(await rawClose(socketUrl('not-a-jwt'), ['nlweb-chat.refusals'])).toEqual({
      protocol: 'nlweb-chat.refusals',
      code: 4001,
      reason: 'GATEWAY_ERR_UNAUTHENTICATED',
    });

    // The reference client of the page's bundle. Short backoff and few retries: a client that did
    // retry would end with "gave up" quickly, and the events would show its reconnecting attempts.
    const clientRun = (token: string): Promise<ClientRun> =>
      page.evaluate(
        ([origin, t]) =>
          new Promise<ClientRun>((resolve) => {
            const events: [string, unknown][] = [];
            const c = window.nlwebChat.createChatClient({
              url: origin,
              conversationId: 'conv',
              token: t,
              maxRetries: 2,
              backoff: { initialMs: 10, maxMs: 10 },
            });
            c.on('disconnected', (e) => events.push(['disconnected', e]));
            c.on('reconnecting', (e) => events.push(['reconnecting', e.attempt]));
            c.on('closed', (e) => {
              events.push(['closed', e]);
              resolve(events);
            });
            c.connect().catch(() => undefined);
          }),
        [`http://127.0.0.1:${stack!.port}`, token] as const,
      );
    expect(await clientRun('not-a-jwt')).toEqual([
      ['disconnected', { code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED', willReconnect: false }],
      ['closed', { code: 4001, reason: 'fatal close 4001: GATEWAY_ERR_UNAUTHENTICATED' }],
    ]);
    const mallory = jwt.sign({ sub: 'mallory' }, secret, { algorithm: 'HS256' });
    expect(await clientRun(mallory)).toEqual([
      ['disconnected', { code: 4003, reason: 'CHAT_ERR_NOT_PARTICIPANT', willReconnect: false }],
      ['closed', { code: 4003, reason: 'fatal close 4003: CHAT_ERR_NOT_PARTICIPANT' }],
    ]);
    // Nothing was created for either of them.
    expect(stack.runtime.health().connections).toBe(0);
    expect((await stack.runtime.getConversation('conv')).participants.map((p) => p.participant_id)).toEqual(['alice']);
  },
  60_000,
);

// Bob is an embedder's subscription (runtime.subscribe): it counts like a socket. No offline grace, so his going
// offline is one frame away (a presence_batch: the page's client offers batches). The status is a word next to the name, not only the colour of the dot.
maybe(
  'the participant list says who is online and follows bob coming and going',
  async () => {
    stack = await startRealStack({ config: { chat: { presence: { offline_grace_s: 0 } } }, extraRoutes: (app) => mountWebClient(app) });
    await stack.createConversation('conv', ['alice', 'bob']);
    browser = await launchChromium();
    const page = await browser.newPage();
    // The page's client offers presence batches (PRESENCE_BATCHES_SUBPROTOCOL): its socket gets presence_batch frames.
    const presenceFrames: string[] = [];
    page.on('websocket', (ws) =>
      ws.on('framereceived', (frame) => {
        const type = (JSON.parse(String(frame.payload)) as { type?: string }).type;
        if (type === 'presence' || type === 'presence_batch') presenceFrames.push(type);
      }),
    );
    await page.goto(`http://127.0.0.1:${stack.port}/?user_id=alice&conversation=conv`);
    const status = (id: string): string => `#participant-list li[data-id="${id}"] .presence`;
    await page.waitForSelector(`${status('alice')}:text-is("online")`);
    await page.waitForSelector(`${status('bob')}:text-is("offline")`);

    const bob = await stack.runtime.subscribe('conv', 'bob', () => undefined);
    await page.waitForSelector(`${status('bob')}:text-is("online")`);
    bob.close();
    await page.waitForSelector(`${status('bob')}:text-is("offline")`);
    expect(await page.textContent('#participant-list li[data-id="alice"]')).toBe('alice (you) online');
    expect(presenceFrames).toEqual(['presence_batch', 'presence_batch']);
  },
  60_000,
);

maybe(
  "the page gives up after mountWebClient's maxRetries failed attempts (0: at the first drop) when the server sets one",
  async () => {
    stack = await startRealStack({ extraRoutes: (app) => mountWebClient(app, { maxRetries: 0 }) });
    await stack.createConversation('conv', ['alice']);
    proxy = await startTcpProxy(stack.port);
    browser = await launchChromium();
    const page = await browser.newPage();
    await page.goto(`http://127.0.0.1:${proxy.port}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');
    proxy.cutAll();
    // Either end state, so a page that retries fails here at once rather than on a timeout.
    const state = await page.waitForSelector('#state[data-state="closed"], #state[data-state="reconnecting"]');
    expect(await state.getAttribute('data-state')).toBe('closed');
    expect(await state.textContent()).toBe('closed');
    expect(await state.getAttribute('title')).toBe('gave up after 0 failed attempts');
    expect(await page.textContent('#errors')).toBe('Could not reach the server. Reload the page to try again.');
  },
  60_000,
);

declare const globalThis: { proxiedClient?: ChatClient; proxiedEvents: [string, unknown][] };

maybe(
  "behind a proxy that strips the subprotocol, the page's client connects on its second attempt and reconnects without a failed one",
  async () => {
    // The page comes from the server, its socket goes through the proxy's port: another origin to the browser,
    // so the server must allow it (server.allowed_origins; the proxy's port is not known before it starts).
    stack = await startRealStack({ extraRoutes: (app) => mountWebClient(app), config: { server: { allowed_origins: ['*'] } } });
    await stack.createConversation('conv', ['alice']);
    proxy = await startTcpProxy(stack.port, { stripSubprotocol: true });
    browser = await launchChromium();
    const page = await browser.newPage();
    const consoleErrors: string[] = [];
    page.on('console', (m) => {
      if (m.type() === 'error') consoleErrors.push(m.text());
    });
    await page.goto(`http://127.0.0.1:${stack.port}/`);

    // Connect through the proxy and send one message; the client stays in the page.
    const firstRun = await page.evaluate(
      (origin) =>
        new Promise<[string, unknown][]>((resolve) => {
          const events: [string, unknown][] = [];
          globalThis.proxiedEvents = events;
          const c = window.nlwebChat.createChatClient({
            url: origin,
            conversationId: 'conv',
            userId: 'alice',
            maxRetries: 2,
            backoff: { initialMs: 10, maxMs: 10 },
            pingIntervalMs: 0,
          });
          globalThis.proxiedClient = c;
          c.on('disconnected', (e) => events.push(['disconnected', e]));
          c.on('reconnecting', (e) => events.push(['reconnecting', e.attempt]));
          c.on('connected', (e) => events.push(['connected', e.reconnect]));
          c.on('closed', (e) => resolve([...events, ['closed', e]]));
          c.connect()
            .then(() => c.send('through the proxy'))
            .then((ack) => resolve([...events, ['ack', ack.persisted]]))
            .catch(() => undefined);
        }),
      proxy.url.replace(/^ws/, 'http'),
    );
    expect(firstRun).toEqual([
      ['disconnected', { code: 1006, reason: '', willReconnect: true }],
      ['reconnecting', 1],
      ['connected', false],
      ['ack', true],
    ]);
    // The browser failed that first handshake for the missing subprotocol, not for anything else.
    expect(consoleErrors).toHaveLength(1);
    expect(consoleErrors[0]).toContain('Sec-WebSocket-Protocol');

    // The connection is cut: the reconnect offers no subprotocol, so it connects at once.
    const reconnected = page.evaluate(
      () =>
        new Promise<[string, unknown][]>((resolve) => {
          const events = globalThis.proxiedEvents;
          const from = events.length;
          const c = globalThis.proxiedClient!;
          c.on('connected', () => resolve(events.slice(from)));
          c.on('closed', () => resolve(events.slice(from)));
        }),
    );
    await page.evaluate(() => undefined); // the listeners above are in place
    proxy.cutAll();
    // Attempt 2: the connection was cut before it counted as healthy (healthyAfterMs, 10 s, connection-loop.ts), so the
    // count goes on from the first run's failed handshake. No handshake failed this time: consoleErrors stays at 1.
    expect(await reconnected).toEqual([
      ['disconnected', { code: 1006, reason: '', willReconnect: true }],
      ['reconnecting', 2],
      ['connected', true],
    ]);
    expect(consoleErrors).toHaveLength(1);
    await page.evaluate(() => globalThis.proxiedClient!.close());
    const journal = await stack.runtime.readMessages('conv', 0, 100);
    expect(journal.filter((m) => m.content === 'through the proxy')).toHaveLength(1);
  },
  60_000,
);
