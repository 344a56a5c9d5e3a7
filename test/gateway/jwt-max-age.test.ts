import jwt from 'jsonwebtoken';
import { closeAll, JWT_SECRET, startHarness } from './harness';
import { upgradeRefusal } from './ws-test-client';

afterEach(closeAll);

const now = (): number => Math.floor(Date.now() / 1000);
const sign = (claims: Record<string, unknown>): string => jwt.sign({ sub: 'alice', ...claims }, JWT_SECRET, { algorithm: 'HS256' });

async function listWith(url: string, token: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${url}/chat/conversations`, { headers: { authorization: `Bearer ${token}` } });
  return { status: res.status, body: await res.json() };
}

describe('server.auth.jwt_max_age_s', () => {
  test('set, a token must carry exp no further than that ahead: one without exp, or living longer, is refused 401 saying why', async () => {
    const h = await startHarness({ server: { auth: { jwt_max_age_s: 3600 } } });
    expect(await listWith(h.url, sign({}))).toEqual({
      status: 401,
      body: { error: 'GATEWAY_ERR_UNAUTHENTICATED', code: 401, message: 'token has no exp claim (server.auth.jwt_max_age_s requires one)' },
    });
    expect(await listWith(h.url, sign({ exp: now() + 30 * 86_400 }))).toEqual({
      status: 401,
      body: {
        error: 'GATEWAY_ERR_UNAUTHENTICATED',
        code: 401,
        message: 'token lives too long: exp is more than 3600 s from now (server.auth.jwt_max_age_s)',
      },
    });
    expect((await listWith(h.url, sign({ exp: now() + 600 }))).status).toBe(200);
    const conv = await h.createConversation('alice');
    const ws = await upgradeRefusal(`${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?token=${sign({})}`);
    expect(ws).toMatchObject({ status: 401, body: { message: 'token has no exp claim (server.auth.jwt_max_age_s requires one)' } });
  });

  test('unset (0, the default), a token without exp is accepted as before', async () => {
    const h = await startHarness();
    expect(h.config.server.auth.jwt_max_age_s).toBe(0);
    expect((await listWith(h.url, sign({}))).status).toBe(200);
  });
});
