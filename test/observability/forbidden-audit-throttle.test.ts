import { Writable } from 'node:stream';
import { createHttpAuditMiddleware } from '../../observability/http-audit';
import { createAuditLog, createLogger } from '../../observability/logger';
import { closeAll, startHarness } from '../gateway/harness';
import { upgradeRefusal } from '../gateway/ws-test-client';

afterEach(closeAll);

describe('access.forbidden audit lines on the real gateway', () => {
  test('one line per (actor, action) per 10 s, whatever the conversation; the next one counts those suppressed', async () => {
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk, _enc, cb) {
        for (const l of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(l) as Record<string, unknown>);
        cb();
      },
    });
    let now = Date.UTC(2026, 0, 1);
    const audit = createAuditLog(createLogger({ level: 'info', destination }), () => now);
    const h = await startHarness(
      { chat: { limits: { conversations_burst: 20 } } },
      { audit, extraRoutes: (app) => app.use(createHttpAuditMiddleware(audit, { maxParticipants: 100 })) },
    );
    const conversations: string[] = [];
    for (let i = 0; i < 20; i++) conversations.push(await h.createConversation('alice'));
    // mallory probes every id over HTTP, and twice over WebSocket: 22 refusals.
    for (const conv of conversations) expect((await h.request('GET', `/chat/conversations/${conv}`, 'mallory')).status).toBe(403);
    for (const conv of conversations.slice(0, 2)) expect((await upgradeRefusal(h.wsUrl(conv, 'mallory'))).status).toBe(403);
    const forbidden = () => lines.filter((l) => l.event === 'access.forbidden').map((l) => [l.actor, l.target, l.details]);
    expect(forbidden()).toEqual([
      ['mallory', conversations[0], { action: 'GET /chat/conversations/{id}', suppressed: 0 }],
      ['mallory', conversations[0], { action: 'ws connect', suppressed: 0 }],
    ]);
    now += 9_999;
    expect((await h.request('GET', `/chat/conversations/${conversations[5]}`, 'mallory')).status).toBe(403);
    expect(forbidden()).toHaveLength(2);
    now += 1;
    expect((await h.request('GET', `/chat/conversations/${conversations[6]}`, 'mallory')).status).toBe(403);
    expect(forbidden()[2]).toEqual(['mallory', conversations[6], { action: 'GET /chat/conversations/{id}', suppressed: 20 }]);
  });
});
