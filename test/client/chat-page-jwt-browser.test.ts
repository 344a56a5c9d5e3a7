/**
 * The chat page on a server in jwt auth mode: the server says so in the page (mountWebClient's authMode), and the
 * page asks for a token instead of the development user id, keeps it in sessionStorage (not in the URL), and sends
 * it as a Bearer header on HTTP and as ?token= on the socket; a token the server refuses is forgotten and asked
 * for again. Chromium against the real server. Chromium: ./chromium.ts.
 */
import jwt from 'jsonwebtoken';
import type { Page } from 'playwright-core';
import { browserTest } from './chromium';
import { collectErrors, pageSessions, type PageSession } from './page-session';

const maybe = browserTest('chat-page-jwt-browser.test');
const session = pageSessions();
const SECRET = 'page-jwt-secret';

const jwtSession = (): Promise<PageSession> =>
  session({ config: { server: { auth: { mode: 'jwt', jwt_secret: SECRET } } }, page: { authMode: 'jwt' } });

const storedToken = (page: Page): Promise<string | null> => page.evaluate(() => sessionStorage.getItem('nlweb-chat-token'));

maybe(
  'asks for a token, not a user id; with it the page lists, opens, sends and keeps it for reloads, out of the URL',
  async () => {
    const { stack, browser, origin } = await jwtSession();
    await stack.createConversation('trip', ['alice']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    const bearer: string[] = [];
    page.on('request', (r) => {
      if (r.url().includes('/chat/conversations')) bearer.push(r.headers()['authorization'] ?? 'none');
    });
    await page.goto(`${origin}/?conversation=trip`);

    await page.waitForSelector('#signin-token');
    expect(await page.isHidden('#signin')).toBe(true);
    expect(await page.isHidden('#sidebar')).toBe(true);
    const token = jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256' });
    await page.fill('#signin-token-value', token);
    await page.click('#signin-token button[type="submit"]');

    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.textContent('#me')).toBe('signed in as alice');
    await page.fill('#input', 'signed in with a token');
    await page.press('#input', 'Enter');
    await page.waitForSelector('#messages li.mine[data-seq] .text:text-is("signed in with a token")');
    const journal = await stack.runtime.readMessages('trip', 0, 100);
    expect(journal.filter((m) => m.content === 'signed in with a token').map((m) => m.sender_id)).toEqual(['alice']);
    expect(bearer.length).toBeGreaterThan(0);
    expect(new Set(bearer)).toEqual(new Set([`Bearer ${token}`]));
    expect(page.url()).not.toContain('token');
    expect(await storedToken(page)).toBe(token);

    // A reload keeps the sign-in (sessionStorage), without asking.
    await page.reload();
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.isHidden('#signin-token')).toBe(true);

    // Signing out forgets it.
    await page.click('#signout');
    await page.waitForSelector('#signin-token');
    expect(await storedToken(page)).toBeNull();
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'a token in the URL moves to sessionStorage; one the server refuses is forgotten and asked for again, saying why',
  async () => {
    const { stack, browser, origin } = await jwtSession();
    await stack.createConversation('trip', ['alice']);
    const page = await browser.newPage();
    const good = jwt.sign({ sub: 'alice' }, SECRET, { algorithm: 'HS256' });
    await page.goto(`${origin}/?token=${encodeURIComponent(good)}&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
    expect(new URL(page.url()).searchParams.get('token')).toBeNull();
    expect(new URL(page.url()).searchParams.get('conversation')).toBe('trip');
    expect(await storedToken(page)).toBe(good);

    const expired = jwt.sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 }, SECRET, { algorithm: 'HS256' });
    await page.evaluate((t) => sessionStorage.setItem('nlweb-chat-token', t), expired);
    await page.reload();
    await page.waitForSelector('#signin-token');
    expect(await page.textContent('#signin-token-problem')).toBe('Your token was not accepted (it may have expired). Paste a new one.');
    expect(await page.getAttribute('#signin-token-problem', 'title')).toContain('GATEWAY_ERR_UNAUTHENTICATED');
    expect(await storedToken(page)).toBeNull();
  },
  60_000,
);
