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
