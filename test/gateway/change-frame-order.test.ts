/**
 * A socket's `edit` and `delete` frames take effect in the order they were sent, relative to its `message` frames
 * (docs/protocol.md, Edits and deletes): a change of a message id the socket has not posted yet is a change of an
 * unknown message (CHAT_ERR_FORBIDDEN) and leaves the post that follows it alone; a change sent after its post works,
 * however closely the two follow each other. Real server on port 0, real sockets; the frames of each case go in one
 * TCP write, so the server reads them in one turn.
 */
import type { ChatMessage } from '../../actors/message-types';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import type { ServerFrame } from '../../gateway/protocol/server-frames';
import type { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** alice (owner) and bob connected to one conversation, bob having seen the join records. */
async function twoMembers(h: Harness): Promise<{ conv: string; alice: TestClient; bob: TestClient }> {
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  await bob.waitFor('participant_list');
  return { conv, alice, bob };
}

/** Sends `frames` in one TCP write (the socket corked around them). */
function sendTogether(client: TestClient, frames: readonly unknown[]): void {
  const socket = (client.ws as unknown as { _socket: { cork(): void; uncork(): void } })._socket;
  socket.cork();
  for (const frame of frames) client.send(frame);
  socket.uncork();
}

async function history(h: Harness, conv: string): Promise<ChatMessage[]> {
  const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=100`, 'bob');
  expect(page.status).toBe(200);
  return page.body.messages as ChatMessage[];
}

/** The answer to the client's `edit` / `delete` of `messageId`: its change_ack or its refusal, whichever came. */
async function answerTo(client: TestClient, replyTo: 'edit' | 'delete', messageId: string): Promise<ServerFrame> {
  const answers = (f: ServerFrame): boolean =>
    (f.type === 'change_ack' || f.type === 'error') && f.reply_to === replyTo && f.message_id === messageId;
  await client.until(() => client.frames.some(answers));
  return client.frames.find(answers)!;
}

/** The answers to a client's changes and posts, in the order they came. */
function answers(client: TestClient): Array<Record<string, unknown>> {
  return client.frames.flatMap((f): Array<Record<string, unknown>> =>
    f.type === 'change_ack' || f.type === 'error'
      ? [{ type: f.type, reply_to: f.reply_to, message_id: f.message_id, ...(f.type === 'error' ? { error: f.error } : {}) }]
      : f.type === 'message_ack'
        ? [{ type: f.type, message_id: f.message_id }]
        : [],
  );
}

describe('a change sent before its message, in one write', () => {
  test('a delete before its message is refused as a change of an unknown message; the message is posted and stays', async () => {
    const h = await startHarness();
    const { conv, alice, bob } = await twoMembers(h);

    sendTogether(bob, [
      { type: 'delete', message_id: 'm1' },
      { type: 'message', message_id: 'm1', content: 'not yet deleted' },
    ]);
    const refusal = await answerTo(bob, 'delete', 'm1');
    expect(refusal).toMatchObject({ type: 'error', error: 'CHAT_ERR_FORBIDDEN', code: 403 });
    expect((refusal as { message?: string }).message).toContain('no message of yours has message_id "m1"');
    const posted = await alice.waitFor('message', (f) => f.message.message_id === 'm1');
    await bob.waitFor('message_ack', (f) => f.message_id === 'm1');

    // Something after both, so a redaction record sequenced behind the post would have reached alice by now.
    bob.send({ type: 'message', message_id: 'm2', content: 'after' });
    await alice.waitFor('message', (f) => f.message.message_id === 'm2');
    expect(alice.frames.some((f) => f.type === 'message' && f.message.message_type === 'redaction')).toBe(false);
    expect(bob.frames.some((f) => f.type === 'change_ack')).toBe(false);
    const stored = (await history(h, conv)).find((m) => m.message_id === 'm1')!;
    expect(stored).toMatchObject({ sequence_id: posted.message.sequence_id, content: 'not yet deleted' });
    expect(stored.metadata.redacted).toBeUndefined();
  });

  test('an edit before its message is refused as a change of an unknown message; the message keeps its text', async () => {
    const h = await startHarness();
    const { conv, alice, bob } = await twoMembers(h);

    sendTogether(bob, [
      { type: 'edit', message_id: 'm1', content: 'edited too early' },
      { type: 'message', message_id: 'm1', content: 'as posted' },
    ]);
    expect(await answerTo(bob, 'edit', 'm1')).toMatchObject({ type: 'error', error: 'CHAT_ERR_FORBIDDEN', code: 403 });
    await bob.waitFor('message_ack', (f) => f.message_id === 'm1');

    bob.send({ type: 'message', message_id: 'm2', content: 'after' });
    await alice.waitFor('message', (f) => f.message.message_id === 'm2');
    expect(alice.frames.some((f) => f.type === 'message' && f.message.message_type === 'edit')).toBe(false);
    const stored = (await history(h, conv)).find((m) => m.message_id === 'm1')!;
    expect(stored.content).toBe('as posted');
    expect(stored.metadata.edited).toBeUndefined();
  });

  test('of several messages, a delete deletes those sent before it and refuses the one sent after it', async () => {
    const h = await startHarness();
    const { conv, bob } = await twoMembers(h);

    sendTogether(bob, [
      { type: 'message', message_id: 'm1', content: 'first' },
      { type: 'delete', message_id: 'm1' },
      { type: 'delete', message_id: 'm2' },
      { type: 'message', message_id: 'm2', content: 'second' },
    ]);
    await answerTo(bob, 'delete', 'm1');
    await answerTo(bob, 'delete', 'm2');
    await bob.waitFor('message_ack', (f) => f.message_id === 'm2');
    expect(answers(bob)).toEqual(
      expect.arrayContaining([
        { type: 'change_ack', reply_to: 'delete', message_id: 'm1' },
        { type: 'error', reply_to: 'delete', message_id: 'm2', error: 'CHAT_ERR_FORBIDDEN' },
      ]),
    );
    const records = await history(h, conv);
    expect(records.find((m) => m.message_id === 'm1')).toMatchObject({ content: '[redacted]', metadata: { redacted: true } });
    expect(records.find((m) => m.message_id === 'm2')).toMatchObject({ content: 'second' });
  });
});

describe('a change sent right after its message, in one write', () => {
  test('a delete right behind its message deletes it', async () => {
    const h = await startHarness();
    const { conv, alice, bob } = await twoMembers(h);

    sendTogether(bob, [
      { type: 'message', message_id: 'm1', content: 'regretted at once' },
      { type: 'delete', message_id: 'm1' },
    ]);
    const ack = await bob.waitFor('change_ack', (f) => f.reply_to === 'delete');
    expect(ack).toMatchObject({ message_id: 'm1', changed: true });
    const posted = await alice.waitFor('message', (f) => f.message.message_id === 'm1');
    const redaction = await alice.waitFor('message', (f) => f.message.message_type === 'redaction');
    expect(redaction.message.metadata.redacted_sequence_ids).toEqual([posted.message.sequence_id]);
    expect((await history(h, conv)).find((m) => m.message_id === 'm1')).toMatchObject({ content: '[redacted]' });
  });

  test('an edit right behind its message edits it', async () => {
    const h = await startHarness();
    const { conv, bob } = await twoMembers(h);

    sendTogether(bob, [
      { type: 'message', message_id: 'm1', content: 'typo' },
      { type: 'edit', message_id: 'm1', content: 'fixed' },
    ]);
    expect(await bob.waitFor('change_ack', (f) => f.reply_to === 'edit')).toMatchObject({ message_id: 'm1', changed: true, edit_count: 1 });
    expect((await history(h, conv)).find((m) => m.message_id === 'm1')).toMatchObject({ content: 'fixed', metadata: { edit_count: 1 } });
  });
});
