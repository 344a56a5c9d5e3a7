/**
 * Browser origins (server.allowed_origins; docs/security.md, Browser origins). Before, any site's page could open a
 * socket (no Origin check unless an embedder passed allowedOrigins) and the HTTP API sent no CORS headers, so a
 * page of an allowed site could not call it at all, while in dev mode any site a developer visited could read their
 * local conversations with ?user_id=. Real server on port 0, real `ws` and http clients sending the Origin header a
 * browser would.
 */
import http from 'node:http';
import { closeAll, startHarness, track, type Harness } from './harness';
import { connectClient, refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(closeAll);

const FOREIGN = 'https://evil.example.net';
const APP = 'https://app.example.com';

interface Answer {
  readonly status: number;
  readonly headers: http.IncomingHttpHeaders;
  readonly body: string;
}

/** An HTTP request with the headers a browser page would send (fetch cannot set Origin). */
function browserRequest(h: Harness, method: string, path: string, headers: Record<string, string>, body?: string): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request(`${h.url}${path}`, { method, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? -1, headers: res.headers, body: text }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

/** The plain HTTP answer to an upgrade sent with `origin`. */
const refusedUpgrade = (url: string, origin: string) => refusedAnswer(url, { Origin: origin });

const REFUSAL = (origin: string) => ({
  error: 'GATEWAY_ERR_ORIGIN_NOT_ALLOWED',
  code: 403,
  message: `origin ${origin} is not in server.allowed_origins`,
});

describe('default (no allowed_origins): only the server’s own pages and non-browser clients', () => {
  test('a socket from another site is refused (403 before the upgrade, close 4003 with the refusal subprotocol)', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    expect(await refusedUpgrade(h.wsUrl(conv, 'alice'), FOREIGN)).toEqual({ status: 403, body: REFUSAL(FOREIGN) });
    const closed = await upgradeOutcome(h.wsUrl(conv, 'alice'), ['nlweb-chat.refusals'], { origin: FOREIGN });
    expect(closed.close).toMatchObject({ code: 4003 });
    expect(String(closed.close?.reason)).toContain('GATEWAY_ERR_ORIGIN_NOT_ALLOWED');

    // The server's own page (the Origin names the Host the request came to) and a Node client (no Origin) connect.
    const own = track(await connectClient(h.wsUrl(conv, 'alice'), { origin: h.url }));
    expect((await own.waitFor('connected')).participant_id).toBe('alice');
    const node = track(await connectClient(h.wsUrl(conv, 'alice')));
    await node.waitFor('connected');
    // Behind a proxy that rewrote Host but says which host the browser asked for.
    const proxied = track(
      await connectClient(h.wsUrl(conv, 'alice'), {
        origin: 'https://chat.example.com',
        headers: { 'X-Forwarded-Host': 'chat.example.com' },
      }),
    );
    await proxied.waitFor('connected');
  });

  test('dev mode: another site cannot name itself alice and read her conversation', async () => {
    const h = await startHarness({ server: { auth: { mode: 'dev' } } });
    const own = await browserRequest(
      h,
      'POST',
      '/chat/conversations?user_id=alice',
      { 'Content-Type': 'application/json' },
      '{"title":"private"}',
    );
    expect(own.status).toBe(201);
    const conv = (JSON.parse(own.body) as { conversation_id: string }).conversation_id;
    expect((await refusedUpgrade(`${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?user_id=alice`, FOREIGN)).status).toBe(403);
    const list = await browserRequest(h, 'GET', '/chat/conversations?user_id=alice', { Origin: FOREIGN });
    expect([list.status, JSON.parse(list.body)]).toEqual([403, REFUSAL(FOREIGN)]);
    expect(list.headers['access-control-allow-origin']).toBeUndefined();
  });

  test('HTTP: another site’s request is refused before it runs (403, no CORS headers); same-origin and non-browser pass', async () => {
    const h = await startHarness();
    const auth = { Authorization: `Bearer ${h.token('alice')}`, 'Content-Type': 'application/json' };
    const foreign = await browserRequest(h, 'POST', '/chat/conversations', { ...auth, Origin: FOREIGN }, '{"title":"csrf"}');
    expect([foreign.status, JSON.parse(foreign.body), foreign.headers.vary]).toEqual([403, REFUSAL(FOREIGN), 'Origin']);
    const preflight = await browserRequest(h, 'OPTIONS', '/chat/conversations', {
      Origin: FOREIGN,
      'Access-Control-Request-Method': 'POST',
    });
    expect(preflight.status).toBe(403);
    expect((await h.request('GET', '/chat/conversations', 'alice')).body).toEqual({ conversations: [], next_cursor: null });

    const own = await browserRequest(h, 'POST', '/chat/conversations', { ...auth, Origin: h.url }, '{"title":"mine"}');
    expect(own.status).toBe(201);
    const plain = await browserRequest(h, 'GET', '/chat/conversations', auth);
    expect(JSON.parse(plain.body).conversations.map((c: { title: string }) => c.title)).toEqual(['mine']);
    // Paths outside /chat belong to the embedding app (and health checks): left alone.
    expect((await browserRequest(h, 'GET', '/livez', { Origin: FOREIGN })).status).toBe(200);
  });
});

describe('allowed_origins lists a site: its pages get CORS and sockets', () => {
  test('preflight 204 with the API’s methods and headers; the answer carries Access-Control-Allow-Origin and exposes Location', async () => {
    const h = await startHarness({ server: { allowed_origins: [APP] } });
    const preflight = await browserRequest(h, 'OPTIONS', '/chat/conversations', {
      Origin: APP,
      'Access-Control-Request-Method': 'POST',
      'Access-Control-Request-Headers': 'authorization, content-type',
    });
    expect(preflight.status).toBe(204);
    expect(preflight.headers).toMatchObject({
      'access-control-allow-origin': APP,
      'access-control-allow-methods': 'GET, POST, DELETE',
      'access-control-allow-headers': 'Authorization, Content-Type',
      'access-control-max-age': '600',
      vary: 'Origin',
    });
    const created = await browserRequest(
      h,
      'POST',
      '/chat/conversations',
      { Authorization: `Bearer ${h.token('alice')}`, 'Content-Type': 'application/json', Origin: APP },
      '{"title":"from the app"}',
    );
    expect(created.status).toBe(201);
    expect(created.headers).toMatchObject({ 'access-control-allow-origin': APP, 'access-control-expose-headers': 'Location, Retry-After' });
    // An error answer carries them too, so the page can read its code.
    const missing = await browserRequest(h, 'GET', '/chat/conversations/nope', {
      Authorization: `Bearer ${h.token('alice')}`,
      Origin: APP,
    });
    expect([missing.status, missing.headers['access-control-allow-origin']]).toEqual([404, APP]);

    const conv = (JSON.parse(created.body) as { conversation_id: string }).conversation_id;
    const socket = track(await connectClient(h.wsUrl(conv, 'alice'), { origin: 'HTTPS://APP.example.com' }));
    expect((await socket.waitFor('connected')).conversation_id).toBe(conv);
    expect((await refusedUpgrade(h.wsUrl(conv, 'alice'), FOREIGN)).status).toBe(403);
  });

  test('"*" lets every site in; the createChatServer option replaces the config', async () => {
    const any = await startHarness({ server: { allowed_origins: ['*'] } });
    const conv = await any.createConversation('alice');
    await track(await connectClient(any.wsUrl(conv, 'alice'), { origin: FOREIGN })).waitFor('connected');
    const answer = await browserRequest(any, 'GET', '/chat/conversations', {
      Authorization: `Bearer ${any.token('alice')}`,
      Origin: FOREIGN,
    });
    expect([answer.status, answer.headers['access-control-allow-origin']]).toEqual([200, FOREIGN]);

    const embedded = await startHarness({ server: { allowed_origins: ['*'] } }, { allowedOrigins: [APP] });
    const own = await embedded.createConversation('alice');
    expect((await refusedUpgrade(embedded.wsUrl(own, 'alice'), FOREIGN)).status).toBe(403);
  });

  test('a malformed entry is refused at start-up, naming the key', async () => {
    await expect(startHarness({ server: { allowed_origins: ['https://app.example.com/path'] } })).rejects.toThrow(
      /server\.allowed_origins\.0|server\.allowed_origins\[0\]/,
    );
  });
});
