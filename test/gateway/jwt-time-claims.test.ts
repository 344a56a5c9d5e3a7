import { createHmac } from 'node:crypto';
import jwt from 'jsonwebtoken';
import { closeAll, JWT_SECRET, startHarness, type Harness } from './harness';
import { upgradeRefusal } from './ws-test-client';

/**
 * A token's iat (issued at) and nbf (not before) may be at most server.auth.jwt_clock_skew_s (default 60) ahead of
 * the server's clock; further, or not a number, is 401 GATEWAY_ERR_UNAUTHENTICATED saying which. Before, any iat was
 * accepted and an nbf even a second ahead was refused with no allowance for a drifting issuer clock.
 */
afterEach(closeAll);

const nowS = (): number => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>): string => jwt.sign({ sub: 'alice', ...claims }, JWT_SECRET, { algorithm: 'HS256' });

/** An HS256 token signed by hand: jsonwebtoken's sign refuses a non-numeric iat or nbf, an attacker's tool does not. */
function signRaw(payload: Record<string, unknown>): string {
  const part = (value: unknown): string => Buffer.from(JSON.stringify(value)).toString('base64url');
  const unsigned = `${part({ alg: 'HS256', typ: 'JWT' })}.${part({ sub: 'alice', ...payload })}`;
  return `${unsigned}.${createHmac('sha256', JWT_SECRET).update(unsigned).digest('base64url')}`;
}

async function listWith(h: Harness, token: string): Promise<{ status: number; message?: string }> {
  const res = await fetch(`${h.url}/chat/conversations`, { headers: { authorization: `Bearer ${token}` } });
  const body = (await res.json()) as { error?: string; message?: string };
  if (res.status === 401) expect(body.error).toBe('GATEWAY_ERR_UNAUTHENTICATED');
  return res.status === 200 ? { status: 200 } : { status: res.status, message: body.message ?? '' };
}

/** "... is N s ahead ..." with N the lead the test gave, or one less when a second boundary passed meanwhile. */
const ahead = (prefix: string, claim: string, leadS: number, skewS = 60): RegExp =>
  new RegExp(
    `^${prefix}: ${claim} is (${leadS}|${leadS - 1}) s ahead of this server's clock, more than the ${skewS} s allowed \\(server\\.auth\\.jwt_clock_skew_s\\)$`,
  );

describe('iat and nbf in the future', () => {
  test('beyond the default 60 s: 401 saying which claim and how far; within it, accepted', async () => {
    const h = await startHarness();
    expect(h.config.server.auth.jwt_clock_skew_s).toBe(60);
    expect(await listWith(h, sign({ iat: nowS() + 3600 }))).toEqual({
      status: 401,
      message: expect.stringMatching(ahead('token issued in the future', 'iat', 3600)),
    });
    expect(await listWith(h, sign({ nbf: nowS() + 120 }))).toEqual({
      status: 401,
      message: expect.stringMatching(ahead('token not valid yet', 'nbf', 120)),
    });
    // An issuer clock 30 s ahead: both pass (an nbf 30 s ahead used to be refused outright).
    expect(await listWith(h, sign({ iat: nowS() + 30, nbf: nowS() + 30 }))).toEqual({ status: 200 });
    // A token jsonwebtoken signs by default (iat = now) and one in the past are untouched.
    expect(await listWith(h, sign({ iat: nowS() - 600, nbf: nowS() - 600 }))).toEqual({ status: 200 });
  });

  test('a claim that is not a number is refused, not skipped', async () => {
    const h = await startHarness();
    expect(await listWith(h, signRaw({ iat: 'tomorrow' }))).toEqual({
      status: 401,
      message: 'token iat claim is not a number (seconds since the epoch)',
    });
    expect(await listWith(h, signRaw({ nbf: 'soon' }))).toEqual({
      status: 401,
      message: 'token nbf claim is not a number (seconds since the epoch)',
    });
  });

  test('server.auth.jwt_clock_skew_s sets the allowance (0: none); the WebSocket upgrade is refused the same way', async () => {
    const h = await startHarness({ server: { auth: { jwt_clock_skew_s: 0 } } });
    expect(await listWith(h, sign({ iat: nowS() + 30 }))).toEqual({
      status: 401,
      message: expect.stringMatching(ahead('token issued in the future', 'iat', 30, 0)),
    });
    const conv = await h.createConversation('alice');
    const refused = await upgradeRefusal(`${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?token=${sign({ iat: nowS() + 30 })}`);
    expect(refused).toMatchObject({ status: 401, body: { error: 'GATEWAY_ERR_UNAUTHENTICATED' } });
    expect((refused.body as { message: string }).message).toMatch(ahead('token issued in the future', 'iat', 30, 0));
  });

  test('exp gets no allowance: a token expired a second ago is refused', async () => {
    const h = await startHarness();
    expect(await listWith(h, sign({ exp: nowS() - 1 }))).toEqual({ status: 401, message: 'token expired' });
  });
});
