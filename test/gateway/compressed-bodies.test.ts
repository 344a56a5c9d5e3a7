import { gzipSync } from 'node:zlib';
import { createNoopLogger, type GatewayLogger } from '../../gateway/observability-hooks';
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

describe('request bodies sent with a Content-Encoding', () => {
  test("a body that does not decompress is the client's 400 GATEWAY_ERR_BAD_REQUEST, not a logged 500; a gzip body still posts", async () => {
    const errors: string[] = [];
    const logger: GatewayLogger = { ...createNoopLogger(), error: (_o, msg) => void errors.push(msg ?? '') };
    logger.child = () => logger;
    const h = await startHarness({}, { logger });
    const conv = await h.createConversation('alice');
    const post = (encoding: string, body: Buffer): Promise<Response> =>
      fetch(`${h.url}/chat/conversations/${conv}/messages`, {
        method: 'POST',
        headers: { authorization: `Bearer ${h.token('alice')}`, 'content-type': 'application/json', 'content-encoding': encoding },
        body: new Uint8Array(body),
      });
    for (const encoding of ['gzip', 'deflate', 'br']) {
      const res = await post(encoding, Buffer.from('not compressed at all'));
      expect({ encoding, status: res.status, body: await res.json() }).toEqual({
        encoding,
        status: 400,
        body: { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: `request body is not valid ${encoding} data (Content-Encoding)` },
      });
    }
    expect(errors).toEqual([]);
    const ok = await post('gzip', gzipSync(JSON.stringify({ message_id: 'z', content: 'zipped' })));
    expect(ok.status).toBe(201);
  });
});
