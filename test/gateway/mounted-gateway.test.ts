import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { ConfigInput } from '../../config/config-types';
import { createChatGateway } from '../../gateway/chat-gateway';
import type { Authenticator } from '../../gateway/authenticators';

// An embedding service mounts the gateway's app under a path of its own (docs/http-api.md, Embedding): the
// answers that name a route must name it under that path, or a client following them leaves the service.
describe('the gateway app mounted at a path prefix of the embedder’s express app', () => {
  const config: ConfigInput = { observability: { log_level: 'silent' } };
  const authenticate: Authenticator = async (req) => {
    const user = req.headers['x-session-user'];
    return typeof user === 'string' ? { userId: user } : undefined;
  };

  test('201 Location names the conversation under the mount path, and following it reads the conversation', async () => {
    const runtime = await createChatRuntime({ config });
    const gateway = createChatGateway({ runtime, config, authenticate });
    const app = express();
    app.use('/support', gateway.app);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const created = await fetch(`${base}/support/chat/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-session-user': 'alice' },
        body: JSON.stringify({ title: 'Help' }),
      });
      expect(created.status).toBe(201);
      const { conversation_id: id } = (await created.json()) as { conversation_id: string };
      const location = created.headers.get('location');
      expect(location).toBe(`/support/chat/conversations/${id}`);

      const followed = await fetch(new URL(location!, base), { headers: { 'x-session-user': 'alice' } });
      expect(followed.status).toBe(200);
      expect(((await followed.json()) as { conversation_id: string }).conversation_id).toBe(id);

      // The NLWeb alias answers with the same canonical route.
      const alias = await fetch(`${base}/support/chat/create`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-session-user': 'alice' },
        body: JSON.stringify({}),
      });
      const aliasId = ((await alias.json()) as { conversation_id: string }).conversation_id;
      expect(alias.headers.get('location')).toBe(`/support/chat/conversations/${aliasId}`);
    } finally {
      await gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    }
  });
});

describe('an authenticate that reuses the embedder’s express middleware', () => {
  test('HTTP: authenticate sees what a middleware in front of gateway.app put on the request; an upgrade went through none of it', async () => {
    const config: ConfigInput = { observability: { log_level: 'silent' } };
    const seen: string[] = [];
    const authenticate: Authenticator = async (req) => {
      const user = (req as { sessionUser?: string }).sessionUser;
      seen.push(`${req.headers.upgrade === undefined ? 'http' : 'upgrade'}:${user ?? 'none'}`);
      return user === undefined ? undefined : { userId: user };
    };
    const runtime = await createChatRuntime({ config });
    const gateway = createChatGateway({ runtime, config, authenticate });
    const app = express();
    // The service's session middleware (here: a header names the user).
    app.use((req, _res, next) => {
      (req as { sessionUser?: string }).sessionUser = req.get('x-session-user');
      next();
    });
    app.use(gateway.app);
    const server = http.createServer(app);
    gateway.attach(server);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    try {
      const created = await fetch(`${base}/chat/conversations`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-session-user': 'alice' },
        body: '{}',
      });
      expect(created.status).toBe(201);
      const { conversation_id: id } = (await created.json()) as { conversation_id: string };
      // The upgrade never passes through express: the same header, no sessionUser.
      const upgrade = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${base}/chat/ws/${id}`, {
          headers: {
            connection: 'Upgrade',
            upgrade: 'websocket',
            'sec-websocket-version': '13',
            'sec-websocket-key': 'dGhlIHNhbXBsZSBub25jZQ==',
            'x-session-user': 'alice',
          },
        });
        req.on('response', (res) => (res.resume(), resolve(res.statusCode ?? 0)));
        req.on('upgrade', (_res, socket) => (socket.destroy(), resolve(101)));
        req.on('error', reject);
        req.end();
      });
      expect(upgrade).toBe(401);
      expect(seen).toEqual(['http:alice', 'upgrade:none']);
    } finally {
      await gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    }
  });
});
