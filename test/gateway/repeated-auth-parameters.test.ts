/**
 * A built-in authentication name (`token`, `user_id`, `display_name`) given twice on a /chat URL or the socket URL is
 * refused with 400 GATEWAY_ERR_BAD_REQUEST before authentication reads it: the authenticators took the first
 * (URLSearchParams.get), so `?user_id=alice&user_id=bob` acted as alice and two tokens as the first, silently.
 * NLWeb's paths, which ignore unknown parameters, refuse it too: it is the caller's identity, not a parameter of
 * theirs. Real server on port 0, real `ws` clients.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, startHarness, track, type Harness } from './harness';
import { connectClient, refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(closeAll);

const badRequest = (message: string): unknown => ({ error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message });

async function devGet(h: Harness, path: string): Promise<{ status: number; body: unknown }> {
  const res = await fetch(`${h.url}${path}`);
  return { status: res.status, body: await res.json() };
}

async function devConversation(h: Harness, owner: string): Promise<string> {
  const res = await fetch(`${h.url}/chat/conversations?user_id=${owner}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: '{"auto_join_agents":false}',
  });
  return ((await res.json()) as { conversation_id: string }).conversation_id;
}

test('dev mode: user_id or display_name twice is refused on HTTP, NLWeb paths and the socket URL; once works', async () => {
  const h = await startHarness({ server: { auth: { mode: 'dev' } } });
  const conv = await devConversation(h, 'alice');

  const twice = await devGet(h, '/chat/conversations?user_id=alice&user_id=bob');
  expect(twice).toEqual({ status: 400, body: badRequest('user_id is given more than once') });
  const nlweb = await devGet(h, '/chat/my-conversations?user_id=alice&user_id=bob');
  expect(nlweb).toEqual({ status: 400, body: badRequest('user_id is given more than once') });
  const names = await devGet(h, '/chat/conversations?user_id=alice&display_name=A&display_name=B');
  expect(names).toEqual({ status: 400, body: badRequest('display_name is given more than once') });
  expect((await devGet(h, '/chat/conversations?user_id=alice&display_name=A')).status).toBe(200);

  const ws = `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}`;
  expect(await refusedAnswer(`${ws}?user_id=alice&user_id=bob`)).toEqual({
    status: 400,
    body: badRequest('user_id is given more than once'),
  });
  expect(await upgradeOutcome(`${ws}?user_id=alice&user_id=bob`, [REFUSAL_SUBPROTOCOL])).toMatchObject({
    status: 101,
    close: { code: 1008, reason: 'GATEWAY_ERR_BAD_REQUEST' },
  });
  const once = track(await connectClient(`${ws}?user_id=alice`));
  expect(once.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
});

test('jwt mode: a token given twice is refused on HTTP and the socket URL, even when both are valid', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const two = `token=${h.token('alice')}&token=${h.token('bob')}`;

  const page = await h.request('GET', `/chat/conversations?${two}`, undefined);
  expect([page.status, page.body]).toEqual([400, badRequest('token is given more than once')]);
  expect(await refusedAnswer(`${h.wsUrl(conv, 'alice')}&token=${h.token('bob')}`)).toEqual({
    status: 400,
    body: badRequest('token is given more than once'),
  });

  expect((await h.request('GET', `/chat/conversations?token=${h.token('alice')}`, undefined)).status).toBe(200);
  const alice = await h.connect(conv, 'alice');
  expect(alice.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
});
