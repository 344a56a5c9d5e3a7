import { Writable } from 'node:stream';
import { createChatRuntime } from '../../actors/create-chat-runtime';
import type { ChatRuntime } from '../../actors/runtime-types';
import { loadConfig } from '../../config/load-config';
import { createChatServer, type ChatServer } from '../../gateway/chat-server';
import { createHttpAuditMiddleware } from '../../observability/http-audit';
import { createAuditLog, createLogger } from '../../observability/logger';
import { MemoryStore } from '../../storage-providers/memory-store';

describe('HTTP audit middleware on the real gateway', () => {
  let runtime: ChatRuntime | undefined;
  let server: ChatServer | undefined;
  const lines: Array<Record<string, unknown>> = [];

  afterEach(async () => {
    await server?.close();
    await runtime?.close({ deadlineMs: 2000 });
    server = runtime = undefined;
    lines.length = 0;
  });

  async function start(): Promise<string> {
    const config = loadConfig({
      overrides: {
        server: { host: '127.0.0.1', port: 0, auth: { mode: 'dev' } },
        chat: {
          limits: { max_participants: 2, rate_limit_per_second: 0.01, rate_limit_burst: 1 },
          nlweb: { endpoints: [], standin: { enabled: false } },
        },
        observability: { log_level: 'silent' },
      },
    });
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    const audit = createAuditLog(createLogger({ level: 'info', destination }));
    runtime = await createChatRuntime({ config, storage: new MemoryStore() });
    server = createChatServer({
      runtime,
      config,
      extraRoutes: (app) => app.use(createHttpAuditMiddleware(audit, { maxParticipants: config.chat.limits.max_participants })),
    });
    return (await server.listen()).url;
  }

  const call = async (url: string, method: string, path: string, body?: unknown): Promise<number> => {
    const res = await fetch(`${url}${path}`, {
      method,
      headers: body === undefined ? {} : { 'content-type': 'application/json' },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  };

  it('records auth failures, forbidden access, participant-limit refusals, rate-limit hits and redactions', async () => {
    const url = await start();
    const conv = (
      await runtime!.createConversation({
        created_by: 'alice',
        participants: [{ participant_id: 'bob', participant_type: 'human' }],
        autoJoinAgents: false,
      })
    ).conversation_id;

    expect(await call(url, 'GET', '/chat/conversations?token=secret-token')).toBe(401);
    expect(await call(url, 'GET', `/chat/conversations/${conv}?user_id=carol`)).toBe(403);
    expect(await call(url, 'POST', `/chat/conversations/${conv}/join?user_id=carol`)).toBe(409);
    expect(await call(url, 'POST', `/chat/conversations/${conv}/messages?user_id=bob`, { message_id: 'b1', content: 'hi' })).toBe(201);
    expect(await call(url, 'POST', `/chat/conversations/${conv}/messages?user_id=bob`, { message_id: 'b2', content: 'hi again' })).toBe(
      429,
    );
    expect(await call(url, 'POST', `/chat/conversations/${conv}/redact?user_id=bob`, { sender_id: 'bob' })).toBe(403);
    expect(await call(url, 'POST', `/chat/conversations/${conv}/redact?user_id=alice`, { message_ids: ['b1'] })).toBe(200);
    // Ordinary requests are not audit events.
    expect(await call(url, 'GET', `/chat/conversations/${conv}?user_id=alice`)).toBe(200);

    const events = lines.map((l) => [l.event, l.actor, l.target, l.outcome]);
    expect(events).toEqual([
      ['auth.failure', 'anonymous', '/chat/conversations', 'denied'],
      ['access.forbidden', 'carol', conv, 'denied'],
      ['participant_limit.refused', 'carol', conv, 'denied'],
      ['rate_limit.hit', 'bob', conv, 'denied'],
      ['access.forbidden', 'bob', conv, 'denied'],
      ['message.redact', 'bob', conv, 'denied'],
      ['message.redact', 'alice', conv, 'success'],
    ]);
    expect(lines.every((l) => l.audit === true && typeof l.at === 'string')).toBe(true);
    expect(lines[2].details).toEqual({ limit: 2 });
    expect(lines[6].details).toEqual({ redacted: 1 });
    // Tokens in query strings never reach the audit stream.
    expect(JSON.stringify(lines)).not.toContain('secret-token');
  });
});
