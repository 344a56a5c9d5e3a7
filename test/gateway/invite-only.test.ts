/**
 * `settings.invite_only: true` closes a conversation to self-joins (docs/security.md "Invite-only conversations"):
 * the HTTP join, NLWeb's alias and a socket's `?join=true` are refused 403 CHAT_ERR_INVITE_ONLY; members add people.
 * Real server on port 0, real sockets, MemoryStore, the binary's audit middleware.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { captureAudit } from '../observability/audit-lines';
import { closeAll, invalidFrames, startHarness } from './harness';
import { upgradeOutcome, upgradeRefusal } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const INVITE_ONLY = 'this conversation is invite-only: a member must add you (POST /chat/conversations/{id}/participants)';

describe('an invite-only conversation', () => {
  test('refuses every self-join 403 CHAT_ERR_INVITE_ONLY (audited), nothing changes; a member adds the user, who then connects', async () => {
    const captured = captureAudit();
    const h = await startHarness({}, captured.harnessOptions);
    const conv = await h.createConversation('alice', ['bob'], { settings: { invite_only: true } });
    const before = (await h.request('GET', `/chat/conversations/${conv}/messages?after=0`, 'alice')).body.messages;

    for (const path of [`/chat/conversations/${conv}/join`, `/chat/${conv}/join`]) {
      const refused = await h.request('POST', path, 'carol');
      expect({ path, status: refused.status, body: refused.body }).toEqual({
        path,
        status: 403,
        body: { error: 'CHAT_ERR_INVITE_ONLY', code: 403, message: INVITE_ONLY },
      });
    }
    const ws = await upgradeRefusal(h.wsUrl(conv, 'carol', { join: 'true' }));
    expect([ws.status, ws.body]).toEqual([403, { error: 'CHAT_ERR_INVITE_ONLY', code: 403, message: INVITE_ONLY }]);
    const closed = await upgradeOutcome(h.wsUrl(conv, 'carol', { join: 'true' }), [REFUSAL_SUBPROTOCOL]);
    expect(closed.close).toEqual({ code: 4003, reason: 'CHAT_ERR_INVITE_ONLY' });

    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice', 'bob']);
    expect((await h.request('GET', `/chat/conversations/${conv}/messages?after=0`, 'alice')).body.messages).toEqual(before);
    expect(captured.events('access.forbidden').map(([, , d]) => (d as { action: string }).action)).toEqual([
      'POST /chat/conversations/{id}/join',
      'POST /chat/{id}/join',
      'ws connect join=true',
    ]);

    // A member's join stays a harmless 200; a member adds carol, who then connects and posts.
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/participants`, 'bob', { participant_id: 'carol' })).status).toBe(200);
    const carol = await h.connect(conv, 'carol', { join: 'true' });
    carol.send({ type: 'message', message_id: 'c1', content: 'in by invitation' });
    await carol.waitFor('message_ack', (f) => f.message_id === 'c1');
  });

  test('a conversation without the setting is open as before; invite_only must be a boolean', async () => {
    const h = await startHarness();
    const open = await h.createConversation('alice', [], { settings: { invite_only: false } });
    expect((await h.request('POST', `/chat/conversations/${open}/join`, 'carol')).status).toBe(200);
    const bad = await h.request('POST', '/chat/conversations', 'alice', { settings: { invite_only: 'yes' } });
    expect([bad.status, bad.body.error]).toEqual([400, 'GATEWAY_ERR_BAD_REQUEST']);
  });
});
