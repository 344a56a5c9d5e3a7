import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import https from 'node:https';
import type { IncomingMessage } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import jwt from 'jsonwebtoken';
import { createChatRuntime } from '../../actors';
import { isChatError } from '../../actors/errors';
import { loadConfig } from '../../config';
import { createChatServer, createDevAuthenticator, createJwtAuthenticator, type GatewayLogger, createNoopLogger } from '../../gateway';
import { closeAll, invalidFrames, JWT_SECRET, startHarness, track } from './harness';
import { connectClient, refusedStatus, TestClient } from './ws-test-client';
import { serverConfigProblems } from '../../gateway/server-config-checks';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type HttpsAnswer = { status: number; body: any };

/** GET/POST over https trusting only our test CA; resolves status and parsed body. */
function httpsRequest(url: string, ca: Buffer, init: { method?: string; token?: string; body?: unknown } = {}): Promise<HttpsAnswer> {
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = {};
    if (init.token) headers.authorization = `Bearer ${init.token}`;
    if (init.body !== undefined) headers['content-type'] = 'application/json';
    const req = https.request(url, { method: init.method ?? 'GET', ca, headers }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(init.body === undefined ? undefined : JSON.stringify(init.body));
  });
}

function fakeRequest(url: string, localAddress: string, headers: Record<string, string> = {}): IncomingMessage {
  return { url, headers, socket: { localAddress } } as unknown as IncomingMessage;
}

describe('gateway TLS and authentication', () => {
  let dir: string;
  let cert: Buffer;
  let certFile: string;
  let keyFile: string;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'nlweb-chat-tls-'));
    certFile = join(dir, 'cert.pem');
    keyFile = join(dir, 'key.pem');
    execFileSync(
      'openssl',
      [
        'req',
        '-x509',
        '-newkey',
        'rsa:2048',
        '-nodes',
        '-days',
        '1',
        '-subj',
        '/CN=localhost',
        '-addext',
        'subjectAltName=IP:127.0.0.1,DNS:localhost',
        '-keyout',
        keyFile,
        '-out',
        certFile,
      ],
      { stdio: 'ignore' },
    );
    cert = readFileSync(certFile);
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('with a certificate the server speaks https and wss (require_tls satisfied)', async () => {
    const h = await startHarness({ server: { tls: { cert_file: certFile, key_file: keyFile, require_tls: true } } });
    expect(h.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const created = await httpsRequest(`${h.url}/chat/conversations`, cert, {
      method: 'POST',
      token: h.token('alice'),
      body: { title: 'secure' },
    });
    expect(created.status).toBe(201);
    const conv = created.body.conversation_id as string;
    const wsUrl = h.wsUrl(conv, 'alice');
    expect(wsUrl.startsWith('wss://')).toBe(true);
    const c = track(await connectClient(wsUrl, { ca: cert }));
    c.send({ type: 'message', message_id: 's1', content: 'over TLS' });
    await c.waitFor('message', (f) => f.message.message_id === 's1');
    expect((await httpsRequest(`${h.url}/livez`, cert)).status).toBe(200);
    // A client that does not trust the certificate cannot connect.
    const untrusting = track(new TestClient(wsUrl));
    await expect(untrusting.opened).rejects.toThrow();
  });

  test('require_tls without a certificate refuses plain HTTP with 426 and plain WebSocket upgrades', async () => {
    const h = await startHarness({ server: { tls: { require_tls: true } } });
    const res = await h.request('GET', '/chat/conversations', 'alice');
    expect(res.status).toBe(426);
    expect(res.body).toMatchObject({ error: 'GATEWAY_ERR_TLS_REQUIRED', code: 426 });
    expect(await refusedStatus(h.wsUrl('any', 'alice'))).toBe(426);
  });

  test('behind a trusted proxy, X-Forwarded-Proto: https satisfies require_tls (and only then)', async () => {
    const trusted = await startHarness({ server: { tls: { require_tls: true } } }, { trustForwardedProto: true });
    const headers = { 'x-forwarded-proto': 'https', authorization: `Bearer ${trusted.token('alice')}` };
    expect((await fetch(`${trusted.url}/chat/conversations`, { headers })).status).toBe(200);
    const conv = await (async () => {
      const r = await fetch(`${trusted.url}/chat/conversations`, {
        method: 'POST',
        headers: { ...headers, 'content-type': 'application/json' },
        body: '{}',
      });
      return ((await r.json()) as { conversation_id: string }).conversation_id;
    })();
    const c = track(new TestClient(trusted.wsUrl(conv, 'alice'), { headers: { 'x-forwarded-proto': 'https' } }));
    await c.opened;
    await c.waitFor('connected');
    const untrusted = await startHarness({ server: { tls: { require_tls: true } } });
    expect(
      (await fetch(`${untrusted.url}/chat/conversations`, { headers: { ...headers, authorization: `Bearer ${untrusted.token('alice')}` } }))
        .status,
    ).toBe(426);
  });

  test('dev authentication: user_id parameter or X-User-Id on loopback, with a warning', async () => {
    const warnings: string[] = [];
    const logger: GatewayLogger = { ...createNoopLogger(), warn: (_o, msg) => void warnings.push(msg ?? '') };
    logger.child = () => logger;
    const h = await startHarness({ server: { auth: { mode: 'dev' } } }, { logger });
    expect(warnings.some((w) => w.includes('development authentication'))).toBe(true);
    const created = await fetch(`${h.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{}',
    });
    expect(created.status).toBe(201);
    const conv = ((await created.json()) as { conversation_id: string }).conversation_id;
    expect((await fetch(`${h.url}/chat/conversations/${conv}`, { headers: { 'x-user-id': 'alice' } })).status).toBe(200);
    expect((await fetch(`${h.url}/chat/conversations/${conv}`)).status).toBe(401);
    expect((await fetch(`${h.url}/chat/conversations?user_id=${encodeURIComponent('bad id')}`)).status).toBe(401);
    const ws = h.url.replace(/^http/, 'ws');
    const c = track(await connectClient(`${ws}/chat/ws/${conv}?user_id=alice`));
    expect((await c.waitFor('connected')).participant_id).toBe('alice');
    expect(await refusedStatus(`${ws}/chat/ws/${conv}`)).toBe(401);
    // Requests that reached a non-loopback address are refused whatever they claim.
    const dev = createDevAuthenticator();
    expect(await dev(fakeRequest('/x?user_id=alice', '127.0.0.1'))).toEqual({ userId: 'alice' });
    expect(await dev(fakeRequest('/x?user_id=alice', '::ffff:127.0.0.1'))).toEqual({ userId: 'alice' });
    await expect(dev(fakeRequest('/x?user_id=alice', '10.1.2.3'))).rejects.toThrow(
      'development authentication serves loopback requests only',
    );
    await expect(dev(fakeRequest('/x', '192.168.0.9', { 'x-user-id': 'alice' }))).rejects.toThrow(/loopback/);
  });

  test('dev authentication refuses to start on a non-loopback host; jwt mode needs a secret', async () => {
    const runtime = await createChatRuntime({ config: loadConfig({ overrides: { observability: { log_level: 'silent' } } }) });
    try {
      const devOnAll = loadConfig({ overrides: { server: { host: '0.0.0.0', port: 0, auth: { mode: 'dev' } } } });
      expect(() => createChatServer({ runtime, config: devOnAll })).toThrow(/loopback/);
      try {
        createChatServer({ runtime, config: devOnAll });
      } catch (err) {
        expect(isChatError(err, 'CONFIG_ERR_INVALID')).toBe(true);
      }
      const jwtNoSecret = loadConfig({ overrides: { server: { port: 0, auth: { mode: 'jwt', jwt_secret: '' } } } });
      expect(() => createChatServer({ runtime, config: jwtNoSecret })).toThrow(/jwt_secret/);
      // A guessable secret is refused beyond loopback (it was accepted: one token sufficed to brute-force it offline).
      const shortOnAll = loadConfig({
        overrides: { server: { host: '0.0.0.0', port: 0, auth: { mode: 'jwt', jwt_secret: 'x'.repeat(31) } } },
      });
      expect(() => createChatServer({ runtime, config: shortOnAll })).toThrow(
        'server.auth.jwt_secret: must be at least 32 bytes (256 bits, RFC 7518 3.2) when the server listens beyond loopback ("0.0.0.0")',
      );
      const longOnAll = loadConfig({
        overrides: { server: { host: '0.0.0.0', port: 0, auth: { mode: 'jwt', jwt_secret: 'x'.repeat(32) } } },
      });
      expect(serverConfigProblems(longOnAll, { customAuthenticator: false })).toEqual([]);
      const halfTls = loadConfig({ overrides: { server: { port: 0, tls: { cert_file: certFile } } } });
      expect(() => createChatServer({ runtime, config: halfTls })).toThrow(/together/);
    } finally {
      await runtime.close();
    }
  });

  test('allowedOrigins refuses browser sockets from other sites (403) and lets non-browser clients through', async () => {
    const h = await startHarness({}, { allowedOrigins: ['https://chat.example.com'] });
    const conv = await h.createConversation('alice');
    expect(await refusedStatus(h.wsUrl(conv, 'alice'), { origin: 'https://evil.example.net' })).toBe(403);
    const browser = track(await connectClient(h.wsUrl(conv, 'alice'), { origin: 'https://CHAT.example.com' }));
    expect((await browser.waitFor('connected')).participant_id).toBe('alice');
    const cli = track(await connectClient(h.wsUrl(conv, 'alice')));
    await cli.waitFor('connected');
  });

  test('JWT: claims, issuer, algorithm pinning; a custom authenticator replaces the default', async () => {
    const auth = createJwtAuthenticator({ secret: JWT_SECRET, issuer: 'nlweb' });
    const bearer = (token: string): IncomingMessage => fakeRequest('/chat/x', '127.0.0.1', { authorization: `Bearer ${token}` });
    const good = jwt.sign({ sub: 'alice', name: 'Alice', roles: ['admin', 3] }, JWT_SECRET, { algorithm: 'HS256', issuer: 'nlweb' });
    expect(await auth(bearer(good))).toEqual({ userId: 'alice', displayName: 'Alice', roles: ['admin'] });
    expect(await auth(fakeRequest(`/chat/x?token=${good}`, '127.0.0.1'))).toMatchObject({ userId: 'alice' });
    const otherIssuer = jwt.sign({ sub: 'alice' }, JWT_SECRET, { algorithm: 'HS256', issuer: 'other' });
    await expect(auth(bearer(otherIssuer))).rejects.toThrow('token issuer is not the one this server expects');
    const hs512 = jwt.sign({ sub: 'alice' }, JWT_SECRET, { algorithm: 'HS512', issuer: 'nlweb' });
    await expect(auth(bearer(hs512))).rejects.toThrow('token algorithm must be HS256');
    const noSubject = jwt.sign({ name: 'no subject' }, JWT_SECRET, { algorithm: 'HS256', issuer: 'nlweb' });
    await expect(auth(bearer(noSubject))).rejects.toThrow('token has no sub (or user_id) claim');

    const h = await startHarness({}, { authenticate: async (req) => (req.headers['x-api-key'] === 'k1' ? { userId: 'svc' } : undefined) });
    const res = await fetch(`${h.url}/chat/conversations`, {
      method: 'POST',
      headers: { 'x-api-key': 'k1', 'content-type': 'application/json' },
      body: '{}',
    });
    expect(res.status).toBe(201);
    expect((await fetch(`${h.url}/chat/conversations`, { headers: { authorization: `Bearer ${h.token('svc')}` } })).status).toBe(401);
  });

  test('server.auth.jwt_issuer from config: set, only tokens of that issuer get in; unset, any issuer does', async () => {
    const list = (url: string, token: string): Promise<number> =>
      fetch(`${url}/chat/conversations`, { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);
    const strict = await startHarness({ server: { auth: { jwt_issuer: 'nlweb' } } });
    expect(await list(strict.url, strict.token('alice', { iss: 'nlweb' }))).toBe(200);
    expect(await list(strict.url, strict.token('alice', { iss: 'other' }))).toBe(401);
    expect(await list(strict.url, strict.token('alice'))).toBe(401);
    const open = await startHarness();
    expect(await list(open.url, open.token('alice', { iss: 'other' }))).toBe(200);
  });
});
