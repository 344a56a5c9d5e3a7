/**
 * An `error` frame names the client frame it answers (`reply_to`, its `type`): a refused `sync` and a refused `leave`
 * share a code and carry no message_id, and a client must tell them apart (docs/protocol.md, Server → client). Real
 * server on port 0, small budgets from config on a manual clock; every frame is checked against the server schemas.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatRuntime } from '../../actors/runtime-types';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const TOO_MANY_CHANGES = 'too many joins and leaves; retry later (chat.limits.membership_changes_per_second)';

test('every error answering a frame names its type: sync, leave, ack, message, a known type failing its schema; an unknown type and malformed JSON name none', async () => {
  const clock = createManualClock();
  const h = await startHarness(
    { chat: { limits: { rate_limit_per_second: 1, rate_limit_burst: 1, membership_changes_per_second: 1, membership_changes_burst: 1 } } },
    { clock },
  );
  const conv = await h.createConversation('alice', ['bob']);
  const other = await h.createConversation('dave');
  const bob = await h.connect(conv, 'bob');
  await bob.next('connected');

  // The message budget holds one token: the first sync takes it, the second is refused.
  bob.send({ type: 'sync', last_sequence_id: 0 });
  await bob.next('sync_complete');
  bob.send({ type: 'sync', last_sequence_id: 0 });
  expect(await bob.next('error')).toEqual({
    type: 'error',
    error: 'GATEWAY_ERR_RATE_LIMITED',
    code: 429,
    message: 'too many messages; slow down',
    reply_to: 'sync',
    retry_after_ms: 1000,
  });
  bob.send({ type: 'message', message_id: 'b1', content: 'hi' });
  expect(await bob.next('error')).toMatchObject({ error: 'GATEWAY_ERR_RATE_LIMITED', reply_to: 'message', message_id: 'b1' });

  // bob's one membership change goes to an HTTP join elsewhere: his leave frame is refused.
  expect((await h.request('POST', `/chat/conversations/${other}/join`, 'bob')).status).toBe(200);
  bob.send({ type: 'leave' });
  expect(await bob.next('error')).toEqual({
    type: 'error',
    error: 'GATEWAY_ERR_RATE_LIMITED',
    code: 429,
    message: TOO_MANY_CHANGES,
    reply_to: 'leave',
    retry_after_ms: 1000,
  });

  bob.send({ type: 'ack', sequence_id: 1000 });
  expect(await bob.next('error')).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', reply_to: 'ack' });
  bob.send({ type: 'typing' });
  expect(await bob.next('error')).toEqual({
    type: 'error',
    error: 'GATEWAY_ERR_INVALID_FRAME',
    code: 400,
    message: 'typing frame: missing field "is_typing"',
    reply_to: 'typing',
  });
  bob.send({ type: 'message', message_id: 'b2' });
  expect(await bob.next('error')).toMatchObject({ error: 'GATEWAY_ERR_INVALID_FRAME', reply_to: 'message', message_id: 'b2' });
  // A type the protocol does not have is not echoed (a client could not have sent it on purpose).
  bob.send({ type: 'constructor' });
  expect(await bob.next('error')).toEqual({
    type: 'error',
    error: 'GATEWAY_ERR_INVALID_FRAME',
    code: 400,
    message: 'unknown frame type "constructor"',
  });
  bob.send([{ type: 'sync', last_sequence_id: 0 }]);
  expect(await bob.next('error')).not.toHaveProperty('reply_to');

  // Nothing could be read: no reply_to, then the close.
  bob.send('{"type":"leave"');
  expect(await bob.next('error')).toEqual({
    type: 'error',
    error: 'GATEWAY_ERR_MALFORMED_JSON',
    code: 400,
    message: 'frame is not valid JSON',
  });
  expect((await bob.closed).code).toBe(1007);
  expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'bob']);
});

test('a leave frame sent while a leave is under way spends no membership change and draws no frame: its close answers both', async () => {
  const clock = createManualClock();
  const h = await startHarness({ chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 2 } } }, { clock });
  const conv = await h.createConversation('alice', ['bob']);
  const other = await h.createConversation('dave');
  // The runtime's leave waits until the test lets it go, so the second frame surely arrives while the first is under way.
  const runtime = h.runtime as { leave: ChatRuntime['leave'] };
  const leave = runtime.leave.bind(h.runtime);
  let letGo!: () => void;
  const gate = new Promise<void>((resolve) => (letGo = resolve));
  runtime.leave = async (conversationId, participantId) => {
    await gate;
    return leave(conversationId, participantId);
  };

  const bob = await h.connect(conv, 'bob');
  await bob.next('connected');
  bob.send({ type: 'leave' });
  bob.send({ type: 'leave' });
  // Frames are handled in order: once this ping is answered, both leaves were.
  bob.send({ type: 'ping', ts: 1 });
  await bob.next('pong', (f) => f.ts === 1);
  letGo();
  expect((await bob.closed).code).toBe(1000);
  expect(bob.frames.filter((f) => f.type === 'error')).toEqual([]);
  expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);

  // One of the two changes is left: a join elsewhere passes, the next change is refused.
  expect((await h.request('POST', `/chat/conversations/${other}/join`, 'bob')).status).toBe(200);
  const refused = await h.request('POST', `/chat/conversations/${other}/leave`, 'bob');
  expect([refused.status, refused.body.message]).toEqual([429, TOO_MANY_CHANGES]);
});
