/**
 * Metadata, settings and request bodies may nest objects and arrays at most MAX_JSON_DEPTH (64) levels deep
 * (storage-providers/record-rules.ts). Before the bound, 3,500 levels of brackets (7 KiB, under every size limit)
 * were accepted as a conversation's settings, and from then on every conversation list of every member it named
 * answered 500 (JSON.stringify ran out of stack); as a message's metadata they blocked the journal writer and
 * turned an exact re-send into a 500. Real server on port 0, real `ws`.
 */
import { isChatError } from '../../actors/errors';
import { MAX_JSON_DEPTH } from '../../storage-providers/record-rules';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** `{"a":[[…[1]…]]}`: an object holding arrays, `levels` objects and arrays in all. */
function nested(levels: number): Record<string, unknown> {
  let value: unknown = 1;
  for (let i = 1; i < levels; i++) value = [value];
  return { a: value };
}

const TOO_DEEP = `nests objects or arrays more than ${MAX_JSON_DEPTH} levels deep`;

describe('nesting depth of JSON values', () => {
  test('settings: a body nested past the bound is 400, nobody named in it gets a broken list; at the bound it is stored', async () => {
    const h = await startHarness();
    // The body is level 1 and settings level 2: settings of MAX_JSON_DEPTH - 1 levels fill the bound exactly.
    const atBound = await h.request('POST', '/chat/conversations', 'mallory', {
      participants: [{ participant_id: 'victim', participant_type: 'human' }],
      settings: nested(MAX_JSON_DEPTH - 1),
    });
    expect(atBound.status).toBe(201);

    const tooDeep = await h.request('POST', '/chat/conversations', 'mallory', {
      participants: [{ participant_id: 'victim', participant_type: 'human' }],
      settings: nested(3500),
    });
    expect([tooDeep.status, tooDeep.body]).toEqual([
      400,
      { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: `request body ${TOO_DEEP}` },
    ]);

    const list = await h.request('GET', '/chat/conversations', 'victim');
    expect(list.status).toBe(200);
    const conversations = (list.body as { conversations: Array<{ conversation_id: string }> }).conversations;
    expect(conversations).toHaveLength(1);
    expect((await h.request('GET', '/chat/my-conversations', 'victim')).status).toBe(200);

    const refused = await h.runtime
      .createConversation({ created_by: 'mallory', settings: nested(MAX_JSON_DEPTH + 1) })
      .catch((err: unknown) => err);
    expect(isChatError(refused, 'CHAT_ERR_INVALID_ARGUMENT')).toBe(true);
    expect((refused as Error).message).toBe(`settings ${TOO_DEEP}`);
  });

  test('metadata: an error frame on the socket, which stays open; 400 over HTTP; CHAT_ERR_INVALID_MESSAGE from runtime.post', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');

    alice.send(JSON.stringify({ type: 'message', message_id: 'deep', content: 'x', metadata: nested(MAX_JSON_DEPTH + 1) }));
    expect(await alice.next('error')).toEqual({
      type: 'error',
      error: 'GATEWAY_ERR_INVALID_FRAME',
      code: 400,
      message: `metadata ${TOO_DEEP}`,
      reply_to: 'message',
      message_id: 'deep',
    });

    // At the bound: sequenced, and its exact re-send is answered as a duplicate (the comparison walks it too).
    const fits = JSON.stringify({ type: 'message', message_id: 'fits', content: 'y', metadata: nested(MAX_JSON_DEPTH) });
    alice.send(fits);
    const first = await alice.next('message_ack');
    expect(first).toMatchObject({ message_id: 'fits', duplicate: false });
    alice.send(fits);
    expect(await alice.next('message_ack')).toMatchObject({ message_id: 'fits', duplicate: true, sequence_id: first.sequence_id });

    const http = await h.request('POST', `/chat/conversations/${conv}/messages`, 'alice', {
      message_id: 'h-deep',
      content: 'z',
      metadata: nested(MAX_JSON_DEPTH + 1),
    });
    expect([http.status, (http.body as { error: string }).error]).toEqual([400, 'GATEWAY_ERR_BAD_REQUEST']);

    const refused = await h.runtime
      .post(conv, { sender_id: 'alice', message_id: 'r-deep', content: 'w', metadata: nested(MAX_JSON_DEPTH + 1) })
      .catch((err: unknown) => err);
    expect(isChatError(refused, 'CHAT_ERR_INVALID_MESSAGE')).toBe(true);

    const history = await h.request('GET', `/chat/conversations/${conv}/messages`, 'alice');
    const ids = (history.body as { messages: Array<{ message_id: string }> }).messages.map((m) => m.message_id);
    expect(ids.filter((id) => ['deep', 'fits', 'h-deep', 'r-deep'].includes(id))).toEqual(['fits']);
  });
});
