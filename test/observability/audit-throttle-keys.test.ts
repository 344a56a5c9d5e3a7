import { closeAll, startHarness } from '../gateway/harness';
import { upgradeRefusal } from '../gateway/ws-test-client';
import { captureAudit } from './audit-lines';

afterEach(closeAll);

/**
 * The audit log throttles its denial lines per (actor, key) per 10 s; a key a caller can vary per request (a
 * guessed conversation id, the letter case of a path Express matches either way) would make every request a line
 * of its own, the flood the throttle is there to stop. These pin that nothing a caller sends makes a new key.
 */
describe('audit throttle keys a caller cannot vary', () => {
  test('404s and 403s on a route spelled in another letter case are one line per route, naming the conversation', async () => {
    const now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness({}, captured.harnessOptions);
    const conv = await h.createConversation('alice');
    // Express matches routes case-insensitively: all of these reach the history route.
    for (let i = 0; i < 5; i++) {
      expect((await h.request('GET', `/chat/Conversations/guess-${i}/messages`, 'mallory')).status).toBe(404);
      expect((await h.request('GET', `/chat/conversations/guess-${i}/MESSAGES`, 'mallory')).status).toBe(404);
    }
    expect((await h.request('GET', `/chat/CONVERSATIONS/${conv}/messages`, 'mallory')).status).toBe(403);
    expect((await h.request('GET', `/chat/conversations/${conv}/Messages`, 'mallory')).status).toBe(403);
    expect(captured.events('access.not_found')).toEqual([
      ['mallory', 'guess-0', { action: 'GET /chat/conversations/{id}/messages', suppressed: 0 }],
    ]);
    expect(captured.events('access.forbidden')).toEqual([
      ['mallory', conv, { action: 'GET /chat/conversations/{id}/messages', suppressed: 0 }],
    ]);
  });

  test('a redaction is audited however its path is spelled', async () => {
    const captured = captureAudit();
    const h = await startHarness({}, captured.harnessOptions);
    const conv = await h.createConversation('alice');
    expect((await h.request('POST', `/chat/conversations/${conv}/Redact`, 'alice', { sender_id: 'bob' })).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/redact/`, 'alice', { sender_id: 'bob' })).status).toBe(200);
    expect(captured.events('message.redact')).toEqual([
      ['alice', conv, { redacted: 0 }],
      ['alice', conv, { redacted: 0 }],
    ]);
  });

  test('the /chat prefix in another letter case is audited too: 404, 403 and redact lines, one route key', async () => {
    const now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness({}, captured.harnessOptions);
    const conv = await h.createConversation('alice');
    expect((await h.request('GET', '/CHAT/conversations/guess-0/messages', 'mallory')).status).toBe(404);
    expect((await h.request('GET', '/Chat/conversations/guess-1/messages', 'mallory')).status).toBe(404);
    expect((await h.request('GET', `/CHAT/conversations/${conv}/messages`, 'mallory')).status).toBe(403);
    expect((await h.request('POST', `/Chat/conversations/${conv}/redact`, 'alice', { sender_id: 'bob' })).status).toBe(200);
    expect(captured.events('access.not_found')).toEqual([
      ['mallory', 'guess-0', { action: 'GET /chat/conversations/{id}/messages', suppressed: 0 }],
    ]);
    expect(captured.events('access.forbidden')).toEqual([
      ['mallory', conv, { action: 'GET /chat/conversations/{id}/messages', suppressed: 0 }],
    ]);
    expect(captured.events('message.redact')).toEqual([['alice', conv, { redacted: 0 }]]);
  });

  test('past a per-user budget, refusals of varied conversation ids are one rate_limit.hit line per (actor, route)', async () => {
    const now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness(
      { chat: { limits: { membership_changes_per_second: 0.01, membership_changes_burst: 1, reads_per_second: 0.01, reads_burst: 1 } } },
      captured.harnessOptions,
    );
    // One join and one read spend the buckets (404s: no such conversations); every one after is refused.
    expect((await h.request('POST', '/chat/conversations/guess-0/join', 'mallory')).status).toBe(404);
    expect((await h.request('GET', '/chat/conversations/guess-0', 'mallory')).status).toBe(404);
    for (let i = 1; i <= 20; i++) {
      expect((await h.request('POST', `/chat/conversations/guess-${i}/join`, 'mallory')).status).toBe(429);
      expect((await h.request('GET', `/chat/conversations/guess-${i}`, 'mallory')).status).toBe(429);
    }
    expect(captured.events('rate_limit.hit')).toEqual([
      ['mallory', 'guess-1', { action: 'POST /chat/conversations/{id}/join', suppressed: 0 }],
      ['mallory', 'guess-1', { action: 'GET /chat/conversations/{id}', suppressed: 0 }],
    ]);
  });

  test('WebSocket upgrades past the connection quota, to varied conversation ids, are one rate_limit.hit line', async () => {
    const now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness({ server: { websocket: { max_connections_per_user: 1 } } }, captured.harnessOptions);
    const conv = await h.createConversation('mallory');
    const open = await h.connect(conv, 'mallory');
    await open.waitFor('connected');
    for (let i = 0; i < 10; i++) expect((await upgradeRefusal(h.wsUrl(`guess-${i}`, 'mallory'))).status).toBe(429);
    expect(captured.events('rate_limit.hit')).toEqual([['mallory', 'guess-0', { action: 'ws connect', suppressed: 0 }]]);
  });
});
