import { closeAll, startHarness } from '../gateway/harness';
import { upgradeRefusal } from '../gateway/ws-test-client';
import { captureAudit } from './audit-lines';

afterEach(closeAll);

describe('access.not_found audit lines on the real gateway', () => {
  test('guessed conversation ids and unknown /chat paths leave one line per (actor, action) per 10 s, the next counting those suppressed', async () => {
    let now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness({}, captured.harnessOptions);
    const conv = await h.createConversation('alice');

    // mallory guesses 20 ids over HTTP, two with a join, two over WebSocket, and tries three paths that are no route.
    for (let i = 0; i < 20; i++) expect((await h.request('GET', `/chat/conversations/guess-${i}`, 'mallory')).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await h.request('POST', `/chat/guess-${i}/join`, 'mallory')).status).toBe(404);
    for (let i = 0; i < 2; i++) expect((await upgradeRefusal(h.wsUrl(`guess-${i}`, 'mallory'))).status).toBe(404);
    for (const path of ['/chat/admin', '/chat/conversations/x/y/z', `/chat/conversations/${conv}/secrets`]) {
      expect((await h.request('GET', path, 'mallory')).status).toBe(404);
    }
    // eve's guess is hers; a right guess is a 403 (access.forbidden), alice's own reads are no event.
    expect((await h.request('GET', '/chat/conversations/guess-0/messages', 'eve')).status).toBe(404);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'mallory')).status).toBe(403);
    expect((await h.request('GET', `/chat/conversations/${conv}`, 'alice')).status).toBe(200);

    expect(captured.events('access.not_found')).toEqual([
      ['mallory', 'guess-0', { action: 'GET /chat/conversations/{id}', suppressed: 0 }],
      ['mallory', 'guess-0', { action: 'POST /chat/{id}/join', suppressed: 0 }],
      ['mallory', 'guess-0', { action: 'ws connect', suppressed: 0 }],
      ['mallory', '/chat/admin', { action: 'GET unknown route', suppressed: 0 }],
      ['eve', 'guess-0', { action: 'GET /chat/conversations/{id}/messages', suppressed: 0 }],
    ]);
    expect(captured.events('access.forbidden')).toEqual([['mallory', conv, { action: 'GET /chat/conversations/{id}', suppressed: 0 }]]);
    expect(captured.lines.filter((l) => l.event === 'access.not_found').every((l) => l.outcome === 'denied' && l.level === 'warn')).toBe(
      true,
    );

    now += 9_999;
    expect((await h.request('GET', '/chat/conversations/guess-20', 'mallory')).status).toBe(404);
    expect(captured.events('access.not_found')).toHaveLength(5);
    now += 1;
    expect((await h.request('GET', '/chat/conversations/guess-21', 'mallory')).status).toBe(404);
    expect((await h.request('GET', '/chat/elsewhere', 'mallory')).status).toBe(404);
    expect(captured.events('access.not_found').slice(5)).toEqual([
      ['mallory', 'guess-21', { action: 'GET /chat/conversations/{id}', suppressed: 20 }],
      ['mallory', '/chat/elsewhere', { action: 'GET unknown route', suppressed: 2 }],
    ]);
  });

  test('WebSocket upgrades to paths that are no socket URL leave one anonymous line per 10 s (refused before authentication)', async () => {
    let now = Date.UTC(2026, 0, 1);
    const captured = captureAudit(() => now);
    const h = await startHarness({}, captured.harnessOptions);
    const base = h.wsUrl('x', 'mallory').replace(/\/chat\/ws\/.*$/, '');
    for (const path of ['/chat/wss/abc', '/socket.io/?EIO=4&transport=websocket', '/chat/ws/a/b']) {
      expect((await upgradeRefusal(`${base}${path}`)).status).toBe(404);
    }
    now += 10_000;
    expect((await upgradeRefusal(`${base}/ws`)).status).toBe(404);
    expect(captured.events('access.not_found')).toEqual([
      ['anonymous', '/chat/wss/abc', { action: 'ws upgrade to an unknown path', suppressed: 0 }],
      ['anonymous', '/ws', { action: 'ws upgrade to an unknown path', suppressed: 2 }],
    ]);
  });
});
