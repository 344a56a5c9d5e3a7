/**
 * chat.context.ws_max_retries and server.auth.mode reach the browser page the server serves: mountWebClient
 * writes them into the page as meta tags; the page hands the first to its client as maxRetries and signs in by
 * the second (in a real browser: chat-page-browser.test.ts, chat-page-jwt-browser.test.ts; from the server
 * binary's config: test/process/config-effects.test.ts).
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { mountWebClient } from '../../client/web/mount-web-client';
import { readAuthMode, readMaxMessageLength, readMaxRetries } from '../../client/web/page-settings';

async function servedPage(options: Parameters<typeof mountWebClient>[1]): Promise<string> {
  const app = express();
  mountWebClient(app, options);
  const server = app.listen(0, '127.0.0.1');
  await new Promise<void>((resolve) => server.once('listening', () => resolve()));
  try {
    const res = await fetch(`http://127.0.0.1:${(server.address() as AddressInfo).port}/`);
    return await res.text();
  } finally {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** The part of a document readMaxRetries uses, over a page's HTML. */
function docOf(html: string): { querySelector(selector: string): { getAttribute(name: string): string | null } | null } {
  return {
    querySelector(selector) {
      const name = /^meta\[name="([^"]+)"\]$/.exec(selector)?.[1];
      const tag = name === undefined ? undefined : new RegExp(`<meta name="${name}" content="([^"]*)"`).exec(html);
      return tag ? { getAttribute: (attr) => (attr === 'content' ? tag[1]! : null) } : null;
    },
  };
}

describe('page settings: chat.context.ws_max_retries in the served page', () => {
  it('the page the server serves tells its client the configured retries, and nothing when none is configured', async () => {
    expect(readMaxRetries(docOf(await servedPage({ maxRetries: 3 })))).toBe(3);
    expect(readMaxRetries(docOf(await servedPage({ maxRetries: 0 })))).toBe(0);
    expect(readMaxRetries(docOf(await servedPage({})))).toBeUndefined();
  });

  it('ignores a tag whose value is not a count (the client default applies)', () => {
    for (const content of ['', 'ten', '-1', '2.5'])
      expect(readMaxRetries(docOf(`<meta name="nlweb-chat-max-retries" content="${content}">`))).toBeUndefined();
  });
});

describe('page settings: server.auth.mode in the served page', () => {
  it('tells the page how to sign in: jwt or dev; without the option, nothing (the page signs in as in dev mode)', async () => {
    expect(readAuthMode(docOf(await servedPage({ authMode: 'jwt' })))).toBe('jwt');
    expect(readAuthMode(docOf(await servedPage({ authMode: 'dev', maxRetries: 3 })))).toBe('dev');
    expect(readAuthMode(docOf(await servedPage({})))).toBeUndefined();
    expect(readAuthMode(docOf('<meta name="nlweb-chat-auth-mode" content="oauth">'))).toBeUndefined();
  });
});

describe('page settings: chat.limits.max_message_length in the served page', () => {
  it('tells the page the longest message it may send; without the option, nothing (the page checks nothing)', async () => {
    expect(readMaxMessageLength(docOf(await servedPage({ maxMessageLength: 10_000 })))).toBe(10_000);
    expect(readMaxMessageLength(docOf(await servedPage({ maxRetries: 3 })))).toBeUndefined();
    for (const content of ['', '0', '-5', '1e4', 'many'])
      expect(readMaxMessageLength(docOf(`<meta name="nlweb-chat-max-message-length" content="${content}">`))).toBeUndefined();
  });
});
