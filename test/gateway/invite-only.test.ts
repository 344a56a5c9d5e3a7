/**
 * `settings.invite_only: true` closes a conversation to self-joins (docs/security.md "Invite-only conversations"):
 * the HTTP join, NLWeb's alias and a socket's `?join=true` are refused 403 CHAT_ERR_INVITE_ONLY; members add people.
 * Real server on port 0, real sockets, MemoryStore, the binary's audit middleware.
 */
import { REFUSAL_SUBPROTOCOL } from '../../gateway';
import { captureAudit } from '../observability/audit-lines';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import { upgradeOutcome, upgradeRefusal } from './ws-test-client';

afterEach(async () => {
  jest.restoreAllMocks();
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

describe('an invite-only conversation, a removal racing a member’s self-join', () => {
  /**
   * The owner's removal of `who` lands between the invite-only check (which saw it as a member) and what follows it:
   * the self-join must not make the removed member one again. `call`: which getConversation of the request is the
   * check's (over HTTP the router's AI-caller check reads one first); `before` runs ahead of the summary it reads.
   */
  function removeAfterCheck(h: Harness, who: string, call: number, before?: () => Promise<unknown>): void {
    jest.restoreAllMocks();
    const real = h.runtime.getConversation.bind(h.runtime);
    let calls = 0;
    jest.spyOn(h.runtime, 'getConversation').mockImplementation(async (id: string) => {
      calls += 1;
      if (calls !== call) return real(id);
      await before?.();
      const summary = await real(id);
      await h.runtime.leave(id, who, { removedBy: 'alice' });
      return summary;
    });
  }

  test('POST …/join by a member removed meanwhile does not put it back (NLWeb alias the same)', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob', 'carol'], { settings: { invite_only: true } });
    removeAfterCheck(h, 'bob', 2);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    removeAfterCheck(h, 'carol', 2);
    expect((await h.request('POST', `/chat/${conv}/join`, 'carol')).status).toBe(200);
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);
  });

  test('?join=true of a user added, then removed, while its join was checked does not put it back', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob'], { settings: { invite_only: true } });
    removeAfterCheck(h, 'carol', 1, () => h.runtime.join(conv, { participant_id: 'carol', participant_type: 'human' }, { addedBy: 'bob' }));
    const refused = await upgradeRefusal(h.wsUrl(conv, 'carol', { join: 'true' }));
    expect([refused.status, (refused.body as { error: string }).error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice', 'bob']);
  });
});
