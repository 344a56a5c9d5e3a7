/**
 * A known /chat path asked with a method none of its routes takes answers 405 GATEWAY_ERR_METHOD_NOT_ALLOWED with
 * an `Allow` header (it answered 404 "no such route", as if the path did not exist). Unknown paths stay 404; /ask
 * and /mcp stay the embedding app's. Real server on port 0.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

describe('a known path with a method it does not take', () => {
  let h: Harness;
  let conv: string;
  beforeEach(async () => {
    h = await startHarness({}, { agents: [createEchoAgent()] });
    conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
  });

  const refusals = (id: string): [string, string, string][] => [
    ['PUT', `/chat/conversations/${id}`, 'GET, HEAD'],
    ['DELETE', '/chat/conversations', 'GET, HEAD, POST'],
    ['PATCH', `/chat/conversations/${id}/messages`, 'GET, HEAD, POST'],
    ['GET', `/chat/conversations/${id}/join`, 'POST'],
    ['DELETE', `/chat/conversations/${id}/leave`, 'POST'],
    ['POST', `/chat/conversations/${id}/participants/me`, 'DELETE'],
    ['GET', `/chat/conversations/${id}/redact`, 'POST'],
    // NLWeb's aliases.
    ['GET', '/chat/create', 'POST'],
    ['POST', '/chat/my-conversations', 'GET, HEAD'],
    ['GET', `/chat/${id}/join`, 'POST'],
    ['POST', `/chat/${id}/leave`, 'DELETE'],
    // Matches both /conversations/{id} (GET) and the alias /{id}/join (POST): every route's methods count.
    ['DELETE', '/chat/conversations/join', 'GET, HEAD, POST'],
  ];

  test('405 GATEWAY_ERR_METHOD_NOT_ALLOWED, Allow naming the methods the path takes, coded JSON body', async () => {
    for (const [method, path, allow] of refusals(conv)) {
      const res = await h.request(method, path, 'alice');
      expect({ method, path, status: res.status, allow: res.headers.get('allow'), body: res.body }).toEqual({
        method,
        path,
        status: 405,
        allow,
        body: { error: 'GATEWAY_ERR_METHOD_NOT_ALLOWED', code: 405, message: `${method} is not allowed here; allowed: ${allow}` },
      });
    }
  });

  test('an unknown conversation id is still a known path: 405, not 404', async () => {
    const res = await h.request('PUT', '/chat/conversations/no-such-conversation', 'alice');
    expect({ status: res.status, allow: res.headers.get('allow') }).toEqual({ status: 405, allow: 'GET, HEAD' });
  });

  test('the method is refused before the body is read, and before the conversation is looked at', async () => {
    const text = await fetch(`${h.url}/chat/conversations/${conv}`, {
      method: 'PUT',
      headers: { authorization: `Bearer ${h.token('alice')}`, 'content-type': 'text/plain' },
      body: 'not json',
    });
    expect(text.status).toBe(405);
    const json = await h.request('PUT', `/chat/conversations/${conv}`, 'alice', '{"broken": ');
    expect(json.status).toBe(405);
    // A caller under the agent's id gets the 405 too: the :id check (403) belongs to the routes that exist.
    expect((await h.request('PATCH', `/chat/conversations/${conv}/messages`, 'echo')).status).toBe(405);
  });

  test('authentication still comes first; other methods keep their answers', async () => {
    expect((await h.request('PUT', `/chat/conversations/${conv}`)).status).toBe(401);
    const options = await h.request('OPTIONS', `/chat/conversations/${conv}`, 'alice');
    expect({ status: options.status, allow: options.headers.get('allow') }).toEqual({ status: 200, allow: 'GET, HEAD' });
    expect((await h.request('HEAD', '/chat/conversations', 'alice')).status).toBe(200);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(200);
    expect((await h.request('POST', `/chat/${conv}/join`, 'carol')).status).toBe(200);
    expect((await h.request('DELETE', `/chat/${conv}/leave`, 'carol')).status).toBe(200);
    const bad = await h.request('PUT', '/chat/conversations/%E0%A4%A', 'alice');
    expect({ status: bad.status, error: bad.body.error }).toEqual({ status: 400, error: 'GATEWAY_ERR_BAD_REQUEST' });
  });

  test('unknown paths stay 404; /ask and /mcp are not ours, whatever the method', async () => {
    const unknown: [string, string][] = [
      ['PUT', '/chat/nothing'],
      ['DELETE', '/chat/conversations/a/b/c'],
      ['GET', `/chat/conversations/${conv}/typing`],
      ['OPTIONS', '/chat/nothing'],
    ];
    for (const [method, path] of unknown) {
      const res = await h.request(method, path, 'alice');
      expect({ method, path, status: res.status, error: res.body.error }).toEqual({
        method,
        path,
        status: 404,
        error: 'GATEWAY_ERR_NOT_FOUND',
      });
    }
    for (const [method, path] of [
      ['PUT', '/ask'],
      ['DELETE', '/mcp'],
      ['GET', '/ask'],
    ]) {
      const res = await h.request(method!, path!, 'alice');
      expect({ method, path, status: res.status, allow: res.headers.get('allow') }).toEqual({ method, path, status: 404, allow: null });
    }
  });
});
