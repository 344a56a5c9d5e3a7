/**
 * For the chat page's browser tests: a real stack with the page mounted and a Chromium, both closed after each
 * test (by the afterEach that pageSessions installs in the calling file). Chromium: ./chromium.ts.
 */
import type { Browser, Page } from 'playwright-core';
import { mountWebClient, type MountWebClientOptions } from '../../client/web/mount-web-client';
import { launchChromium } from './chromium';
import { startRealStack, type RealStack, type RealStackOptions } from './real-server';

export interface PageSession {
  readonly stack: RealStack;
  readonly browser: Browser;
  /** http://127.0.0.1:<port> */
  readonly origin: string;
}

export interface PageSessionOptions extends Omit<RealStackOptions, 'extraRoutes'> {
  /** What the server hands the page (mountWebClient's options). */
  readonly page?: MountWebClientOptions;
}

/** Returns the function that starts a session; call it at the top of a test file. */
export function pageSessions(): (options?: PageSessionOptions) => Promise<PageSession> {
  const open: PageSession[] = [];
  afterEach(async () => {
    for (const s of open.splice(0)) {
      await s.browser.close();
      await s.stack.close();
    }
  });
  return async (options = {}) => {
    const { page, ...stackOptions } = options;
    const stack = await startRealStack({ ...stackOptions, extraRoutes: (app) => mountWebClient(app, page) });
    const browser = await launchChromium().catch(async (err: unknown) => {
      await stack.close();
      throw err;
    });
    const session = { stack, browser, origin: `http://127.0.0.1:${stack.port}` };
    open.push(session);
    return session;
  };
}

/** Page errors and console errors (a failed request shows as one), which a test expects to stay empty. */
export function collectErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(m.text());
  });
  return errors;
}

/**
 * What a browser does to a tab when the user switches away from it (visibility hidden, then blur) or back
 * (visible, then focus). Playwright's headless Chromium keeps every tab visible and focused (bringToFront
 * fires neither event), so the test sets the document's visibility and fires the events itself.
 */
export async function switchTab(page: Page, direction: 'away' | 'back'): Promise<void> {
  await page.evaluate((hidden) => {
    Object.defineProperty(document, 'visibilityState', { configurable: true, get: () => (hidden ? 'hidden' : 'visible') });
    Object.defineProperty(document, 'hidden', { configurable: true, get: () => hidden });
    document.dispatchEvent(new Event('visibilitychange'));
    window.dispatchEvent(new Event(hidden ? 'blur' : 'focus'));
  }, direction === 'away');
}
