import http from 'node:http';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { ConfigInput } from '../../config/config-types';
import type { Authenticator } from '../../gateway/authenticators';
import { createChatGateway } from '../../gateway/chat-gateway';
import { createHttpAuditMiddleware } from '../../observability/http-audit';
import type { AuditLog } from '../../observability/logger';

// docs/observability.md: an embedder mounting the gateway under a path of its own mounts the audit middleware with
// it, and gets the same audit trail as the server binary (it used to read the whole original URL, saw
// /support/chat/... where it looks for /chat/..., and audited nothing).
describe('HTTP audit middleware mounted with the gateway under a path prefix', () => {
  test('auth failures and forbidden access are audited, with the path as the gateway sees it', async () => {
    const events: string[] = [];
    const audit = {
      authFailure: (actor: string, target: string, reason: string) => void events.push(`auth.failure ${actor} ${target} ${reason}`),
      forbidden: (actor: string, target: string, action: string) => void events.push(`access.forbidden ${actor} ${target} ${action}`),
      participantLimit: () => undefined,
      rateLimited: () => undefined,
      redaction: () => undefined,
    } as unknown as AuditLog;
    const authenticate: Authenticator = async (req) => {
      const user = req.headers['x-session-user'];
      return typeof user === 'string' ? { userId: user } : undefined;
    };
    const config: ConfigInput = { observability: { log_level: 'silent' } };
    const runtime = await createChatRuntime({ config });
    const gateway = createChatGateway({ runtime, config, authenticate });
    const app = express();
    app.use('/support', createHttpAuditMiddleware(audit, { maxParticipants: 100 }), gateway.app);
    const server = http.createServer(app);
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/support`;
    try {
      const c = await runtime.createConversation({ conversation_id: 'c-1', created_by: 'alice' });
      expect((await fetch(`${base}/chat/conversations`)).status).toBe(401);
      const forbidden = await fetch(`${base}/chat/conversations/${c.conversation_id}`, { headers: { 'x-session-user': 'mallory' } });
      expect(forbidden.status).toBe(403);
      expect(events).toEqual([
        'auth.failure anonymous /chat/conversations GATEWAY_ERR_UNAUTHENTICATED',
        'access.forbidden mallory c-1 GET /chat/conversations/{id}',
      ]);
    } finally {
      await gateway.close();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await runtime.close();
    }
  });
});
