import { createChatRuntime } from '../../actors';
import { isChatError } from '../../actors/errors';
import type { ConfigInput } from '../../config';
import { createChatGateway, createChatServer } from '../../gateway';

// The gateway and the server take the same config input as the runtime (docs/http-api.md, Embedding).
describe('createChatServer and createChatGateway with a partial config', () => {
  it('validate it, apply the defaults and serve with them', async () => {
    const config: ConfigInput = { server: { port: 0 }, observability: { log_level: 'silent' } };
    const runtime = await createChatRuntime({ config });
    const server = createChatServer({ runtime, config });
    try {
      const { host, url } = await server.listen();
      expect(host).toBe('127.0.0.1'); // the default server.host
      // The default auth mode (dev) names the caller with ?user_id=.
      const created = await fetch(`${url}/chat/conversations?user_id=alice`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ conversation_id: 'c1' }),
      });
      expect(created.status).toBe(201);
    } finally {
      await server.close();
      await runtime.close();
    }
  });

  it('refuse an invalid one with CONFIG_ERR_INVALID naming the key, before anything listens', async () => {
    const runtime = await createChatRuntime({ config: { observability: { log_level: 'silent' } } });
    const bad = { server: { port: -1, websocket: { max_frame_bytes: 'big' } } } as unknown as ConfigInput;
    try {
      for (const create of [() => createChatServer({ runtime, config: bad }), () => createChatGateway({ runtime, config: bad })]) {
        let thrown: unknown;
        try {
          create();
        } catch (err) {
          thrown = err;
        }
        expect(isChatError(thrown) && thrown.code).toBe('CONFIG_ERR_INVALID');
        const paths = (thrown as { details: { problems: Array<{ path: string }> } }).details.problems.map((p) => p.path);
        expect(paths).toEqual(expect.arrayContaining(['server.port', 'server.websocket.max_frame_bytes']));
      }
    } finally {
      await runtime.close();
    }
  });

  it('refuse a missing runtime, or its Promise, with CONFIG_ERR_INVALID naming it (JavaScript callers)', async () => {
    // Before, the server listened and answered every request 500 GATEWAY_ERR_INTERNAL.
    const config: ConfigInput = { server: { port: 0 }, observability: { log_level: 'silent' } };
    const problems = (create: () => unknown) => {
      try {
        create();
      } catch (err) {
        if (isChatError(err, 'CONFIG_ERR_INVALID')) return err.details?.problems;
        throw err;
      }
      return 'created';
    };
    const missing = [{ path: 'runtime', message: 'is required: the ChatRuntime that createChatRuntime() resolves to' }];
    expect(problems(() => createChatServer({ config } as unknown as Parameters<typeof createChatServer>[0]))).toEqual(missing);
    expect(problems(() => createChatGateway({ config } as unknown as Parameters<typeof createChatGateway>[0]))).toEqual(missing);
    const pending = createChatRuntime({ config });
    try {
      const notAwaited = { runtime: pending, config } as unknown as Parameters<typeof createChatServer>[0];
      expect(problems(() => createChatServer(notAwaited))).toEqual([
        { path: 'runtime', message: 'is a Promise: pass the runtime it resolves to (runtime: await createChatRuntime(...))' },
      ]);
    } finally {
      await (await pending).close();
    }
  });
});
