import { closeAll, startHarness, type Harness } from './harness';

afterEach(closeAll);

/** A raw request: `type` undefined sends a body without any Content-Type. */
async function send(
  h: Harness,
  path: string,
  body: string,
  type: string | undefined,
): Promise<{ status: number; body: { error: string; message: string } }> {
  const headers: Record<string, string> = { authorization: `Bearer ${h.token('alice')}` };
  if (type !== undefined) headers['content-type'] = type;
  // A Blob of no type makes fetch send the body without a Content-Type header.
  const res = await fetch(`${h.url}${path}`, { method: 'POST', headers, body: type === undefined ? new Blob([body]) : body });
  return { status: res.status, body: (await res.json()) as { error: string; message: string } };
}

describe('a request body that is not JSON (docs/http-api.md, Bodies)', () => {
  it('is refused with 415 GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE naming the type, not a missing field', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const json = JSON.stringify({ message_id: 'm1', content: 'hi' });
    for (const type of ['text/plain', 'text/plain;charset=UTF-8', 'application/x-www-form-urlencoded', undefined]) {
      const answer = await send(h, `/chat/conversations/${conv}/messages`, json, type);
      expect({ type, status: answer.status }).toEqual({ type, status: 415 });
      expect(answer.body).toMatchObject({ error: 'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE', code: 415 });
      expect(answer.body.message).toContain(type === undefined ? 'no Content-Type' : type.split(';')[0]);
      expect(answer.body.message).toContain('application/json');
    }
    expect((await send(h, '/chat/conversations', '{}', 'text/plain')).status).toBe(415);
    // Nothing was posted.
    expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice')).body.messages).not.toContainEqual(
      expect.objectContaining({ message_id: 'm1' }),
    );
  });

  it('still accepts JSON (with a charset too) and bodiless requests', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const json = JSON.stringify({ message_id: 'm1', content: 'hi' });
    expect((await send(h, `/chat/conversations/${conv}/messages`, json, 'application/json; charset=utf-8')).status).toBe(201);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    expect((await h.request('POST', '/chat/conversations', 'alice')).status).toBe(201);
  });
});

describe('a JSON body the server cannot decode, or of the wrong shape', () => {
  it('a charset other than UTF-8 or an unknown Content-Encoding is 415 naming it; nothing is posted', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const json = JSON.stringify({ message_id: 'm1', content: 'hi' });
    const latin1 = await send(h, `/chat/conversations/${conv}/messages`, json, 'application/json; charset=latin1');
    expect([latin1.status, latin1.body]).toEqual([
      415,
      {
        error: 'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE',
        code: 415,
        message: 'request body charset "latin1" is not supported: send UTF-8 (or no charset)',
      },
    ]);
    const res = await fetch(`${h.url}/chat/conversations/${conv}/messages`, {
      method: 'POST',
      headers: { authorization: `Bearer ${h.token('alice')}`, 'content-type': 'application/json', 'content-encoding': 'zstd' },
      body: json,
    });
    expect([res.status, await res.json()]).toEqual([
      415,
      {
        error: 'GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE',
        code: 415,
        message: 'Content-Encoding "zstd" is not supported: send gzip, deflate, br or identity',
      },
    ]);
    expect((await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice')).body.messages).not.toContainEqual(
      expect.objectContaining({ message_id: 'm1' }),
    );
  });

  it('JSON that is not an object (null, a string, a number) is 400 GATEWAY_ERR_BAD_REQUEST, as [] is; broken JSON stays MALFORMED_JSON', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    for (const body of ['null', '"x"', '1']) {
      const answer = await send(h, `/chat/conversations/${conv}/messages`, body, 'application/json');
      expect({ body, status: answer.status, ...answer.body }).toEqual({
        body,
        status: 400,
        error: 'GATEWAY_ERR_BAD_REQUEST',
        code: 400,
        message: 'body must be a JSON object',
      });
    }
    expect((await send(h, `/chat/conversations/${conv}/messages`, '[]', 'application/json')).body.error).toBe('GATEWAY_ERR_BAD_REQUEST');
    const broken = await send(h, `/chat/conversations/${conv}/messages`, '{"message_id":', 'application/json');
    expect([broken.status, broken.body.error]).toEqual([400, 'GATEWAY_ERR_MALFORMED_JSON']);
  });
});
