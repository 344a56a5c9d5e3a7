/**
 * A 401 says why (docs/protocol.md, Connecting; docs/http-api.md, Conventions): a client writer must tell an
 * expired token (refresh it) from a malformed one or a missing one (its own bug). Real server on port 0: the
 * same message in the HTTP API's body and in a refused WebSocket upgrade's body; the close reason stays the code.
 */
import jwt from 'jsonwebtoken';
import { ChatError } from '../../actors/errors';
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, invalidFrames, JWT_SECRET, startHarness, type Harness } from './harness';
import { refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const unauthenticated = (message: string): { status: number; body: Record<string, unknown> } => ({
  status: 401,
  body: { error: 'GATEWAY_ERR_UNAUTHENTICATED', code: 401, message },
});

/** The 401 of GET /chat/conversations and of the upgrade for the same credentials (a query string). */
async function bothAnswers(h: Harness, query: string): Promise<unknown[]> {
  const res = await fetch(`${h.url}/chat/conversations${query}`);
  const http = { status: res.status, body: (await res.json()) as unknown };
  const ws = await refusedAnswer(`${h.url.replace(/^http/, 'ws')}/chat/ws/any${query}`);
  return [http, ws];
}

describe('401 answers say why', () => {
  test('jwt mode: no token, not a JWT, bad signature, expired, other algorithm, no user id, an id out of the rules', async () => {
    const h = await startHarness();
    const sign = (claims: object, options: jwt.SignOptions = {}, secret = JWT_SECRET): string =>
      jwt.sign(claims, secret, { algorithm: 'HS256', ...options });
    const cases: Array<[string, string]> = [
      ['', 'no token: send Authorization: Bearer <JWT> or ?token=<JWT>'],
      ['?token=not-a-jwt', 'token is not a valid JWT'],
      [`?token=${sign({ sub: 'alice' }, {}, 'another-secret')}`, 'token signature does not verify'],
      [`?token=${sign({ sub: 'alice', exp: Math.floor(Date.now() / 1000) - 60 })}`, 'token expired'],
      [`?token=${sign({ sub: 'alice' }, { algorithm: 'HS512' })}`, 'token algorithm must be HS256'],
      [`?token=${sign({ name: 'Alice' })}`, 'token has no sub (or user_id) claim'],
      [`?token=${sign({ sub: 'alice smith' })}`, 'token user id must be 1 to 128 characters of [A-Za-z0-9_.@:+-]'],
    ];
    for (const [query, message] of cases)
      expect([query, await bothAnswers(h, query)]).toEqual([query, [unauthenticated(message), unauthenticated(message)]]);

    // The refusal subprotocol's close frame carries the code alone, as before.
    expect(await upgradeOutcome(`${h.url.replace(/^http/, 'ws')}/chat/ws/any?token=not-a-jwt`, [REFUSAL_SUBPROTOCOL])).toMatchObject({
      close: { code: 4001, reason: 'GATEWAY_ERR_UNAUTHENTICATED' },
    });
    // WWW-Authenticate stays on the HTTP API's 401.
    expect((await fetch(`${h.url}/chat/conversations?token=not-a-jwt`)).headers.get('www-authenticate')).toBe('Bearer');
  });

  test('dev mode: no user_id, or one out of the id rules', async () => {
    const h = await startHarness({ server: { auth: { mode: 'dev' } } });
    expect(await bothAnswers(h, '')).toEqual(
      Array(2).fill(unauthenticated('no user_id: name yourself with ?user_id=<id> (development authentication)')),
    );
    expect(await bothAnswers(h, '?user_id=alice%20smith')).toEqual(
      Array(2).fill(unauthenticated('user_id must be 1 to 128 characters of [A-Za-z0-9_.@:+-]')),
    );
  });

  test('a custom authenticator that resolves undefined gets the plain message; one that rejects with the code, its own', async () => {
    const h = await startHarness(
      {},
      {
        authenticate: async (req) => {
          if (req.headers['x-api-key'] === 'k1') return { userId: 'svc' };
          if (req.headers['x-api-key'] !== undefined) throw new ChatError('GATEWAY_ERR_UNAUTHENTICATED', 'api key revoked');
          return undefined;
        },
      },
    );
    const answer = async (headers: Record<string, string>): Promise<unknown> => {
      const res = await fetch(`${h.url}/chat/conversations`, { headers });
      return { status: res.status, body: (await res.json()) as unknown };
    };
    expect(await answer({})).toEqual(unauthenticated('authentication required'));
    expect(await answer({ 'x-api-key': 'k0' })).toEqual(unauthenticated('api key revoked'));
    expect((await answer({ 'x-api-key': 'k1' })) as { status: number }).toMatchObject({ status: 200 });
  });

  test("a custom authenticator's display name loses control characters and lone surrogates, as a token's does", async () => {
    // The runtime refuses such a name (CHAT_ERR_INVALID_ARGUMENT): without the cleaning this user could create nothing.
    const h = await startHarness({}, { authenticate: async () => ({ userId: 'svc', displayName: 'Ops\u0007 desk \udc00!' }) });
    const res = await fetch(`${h.url}/chat/conversations`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ title: 'named' }),
    });
    expect(res.status).toBe(201);
    const { conversation_id } = (await res.json()) as { conversation_id: string };
    const members = (await h.runtime.getConversation(conversation_id)).participants;
    expect(members.map((p) => [p.participant_id, p.display_name])).toEqual([['svc', 'Ops desk \ufffd!']]);
  });
});
