/**
 * The chat page and its bundle may not be framed by other sites (clickjacking: a page of theirs laid over ours
 * turns a visitor's clicks into joins and sends) nor sniffed as another type.
 */
import type { AddressInfo } from 'node:net';
import express from 'express';
import { mountWebClient } from '../../client/web/mount-web-client';

describe("the served chat page refuses other sites' frames", () => {
  it('GET / and GET /client/chat-bundle.js carry frame-ancestors / X-Frame-Options and nosniff', async () => {
    const app = express();
    mountWebClient(app, {});
    const server = app.listen(0, '127.0.0.1');
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    try {
      const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
      for (const path of ['/', '/client/chat-bundle.js']) {
        const res = await fetch(`${base}${path}`);
        await res.arrayBuffer();
        expect({
          path,
          csp: res.headers.get('content-security-policy'),
          frame: res.headers.get('x-frame-options'),
          sniff: res.headers.get('x-content-type-options'),
        }).toEqual({ path, csp: "frame-ancestors 'self'", frame: 'SAMEORIGIN', sniff: 'nosniff' });
      }
    } finally {
      await new Promise<void>((resolve) => server.close(() => resolve()));
    }
  });
});
