/**
 * A query parameter a /chat path does not read is refused with 400 naming it, on the HTTP API and on the WebSocket
 * URL: `?afer=5` used to answer the first page as if nothing were wrong, and `?last_sequence=5` on the socket URL
 * opened a connection without the history the client meant to resume from. NLWeb's own paths keep ignoring
 * parameters they do not know; names an embedder's authenticate function reads are declared in
 * `server.auth.query_parameters`. Real server on port 0, real `ws` clients.
 */
import type { IncomingMessage } from 'node:http';
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { closeAll, startHarness } from './harness';
import { refusedAnswer, upgradeOutcome } from './ws-test-client';

afterEach(closeAll);

const badRequest = (message: string): unknown => ({ error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message });

test('HTTP: a misspelt parameter is named with what the path takes; known and auth parameters pass', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const sequenceIds: number[] = [];
  for (let i = 0; i < 3; i++) {
    const posted = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', { message_id: `m${i}`, content: `m${i}` });
    sequenceIds.push((posted.body as { sequence_id: number }).sequence_id);
  }

  const typo = await h.request('GET', `/chat/conversations/${conv}/messages?afer=2`, 'alice');
  expect([typo.status, typo.body]).toEqual([400, badRequest('unknown query parameter "afer" (this path takes after, before, limit)')]);
  const listTypo = await h.request('GET', '/chat/conversations?limt=1', 'alice');
  expect([listTypo.status, listTypo.body]).toEqual([400, badRequest('unknown query parameter "limt" (this path takes limit, cursor)')]);
  const none = await h.request('GET', `/chat/conversations/${conv}?after=1`, 'alice');
  expect([none.status, none.body]).toEqual([400, badRequest('unknown query parameter "after" (this path takes none)')]);
  // A refused post is not sequenced.
  const post = await h.request('POST', `/chat/conversations/${conv}/messages?dry_run=1`, 'alice', { message_id: 'x', content: 'x' });
  expect(post.status).toBe(400);

  const page = await h.request(
    'GET',
    `/chat/conversations/${conv}/messages?after=${sequenceIds[0]}&limit=10&token=${h.token('alice')}`,
    'alice',
  );
  expect(page.status).toBe(200);
  const contents = (page.body as { messages: Array<{ content: string }> }).messages.map((m) => m.content);
  expect(contents).toEqual(['m1', 'm2']);
});

test("HTTP: NLWeb's own paths ignore parameters they do not know, as NLWeb's server does", async () => {
  const h = await startHarness();
  await h.createConversation('alice');
  const listed = await h.request('GET', '/chat/my-conversations?client=nlweb-ui', 'alice');
  expect(listed.status).toBe(200);
});

test('WebSocket: an unknown name is refused before the upgrade (400 / close 1008); the known ones connect', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const message =
    'unknown query parameter "last_sequence" (this path takes last_sequence_id, last_message_id, last_sender_id, history, join, protocol_version)';
  expect(await refusedAnswer(h.wsUrl(conv, 'alice', { last_sequence: '0' }))).toEqual({ status: 400, body: badRequest(message) });
  expect(await upgradeOutcome(h.wsUrl(conv, 'alice', { last_sequence: '0' }), [REFUSAL_SUBPROTOCOL])).toMatchObject({
    status: 101,
    close: { code: 1008, reason: 'GATEWAY_ERR_BAD_REQUEST' },
  });
  const alice = await h.connect(conv, 'alice', { last_sequence_id: '0', join: 'false' });
  expect(alice.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
});

test("names an embedder's authenticate function reads are declared in server.auth.query_parameters", async () => {
  const byApiKey = async (req: IncomingMessage) => {
    const key = new URL(req.url ?? '/', 'http://x').searchParams.get('api_key');
    return key === 'k-alice' ? { userId: 'alice' } : undefined;
  };
  const undeclared = await startHarness({}, { authenticate: byApiKey });
  const refused = await undeclared.request('GET', '/chat/conversations?api_key=k-alice', undefined);
  expect([refused.status, refused.body]).toEqual([400, badRequest('unknown query parameter "api_key" (this path takes limit, cursor)')]);

  const declared = await startHarness({ server: { auth: { query_parameters: ['api_key'] } } }, { authenticate: byApiKey });
  expect((await declared.request('GET', '/chat/conversations?api_key=k-alice', undefined)).status).toBe(200);
});

test('a parameter of the path given twice is refused, on the socket URL as on HTTP (400 / close 1008)', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  // `history=5&history=9999` used to take the first value silently: which one the caller meant is unknowable.
  for (const name of ['history', 'last_sequence_id', 'join']) {
    const value = name === 'join' ? 'false' : '5';
    const url = `${h.wsUrl(conv, 'alice', { [name]: value })}&${name}=${value}`;
    expect(await refusedAnswer(url)).toEqual({ status: 400, body: badRequest(`${name} is given more than once`) });
  }
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&after=1`, 'alice');
  expect([page.status, page.body]).toEqual([400, badRequest('after is given more than once')]);
  const alice = await h.connect(conv, 'alice', { history: '5' });
  expect(alice.frames[0]).toMatchObject({ type: 'connected', participant_id: 'alice' });
});
