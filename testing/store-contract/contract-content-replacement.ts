import { REDACTION_MARKER } from '../../storage-providers/chat-store';
import { expectCode, type ContractContext } from './chat-store.contract';
import { meta, msg, msgs } from './fixtures';

/** What a member's edit writes (actors/message-edits.ts): new text, the edit marked on the metadata. */
const EDIT = {
  senderId: 'alice',
  content: 'message 1, edited',
  metadata: { edited: true, edited_at: '2026-01-01T00:01:00.000Z', edit_count: 1 },
};

/**
 * Content replacement (stores with `supports.replaceContent`): one record's content and metadata keys changed in
 * place, only when it is the named sender's and not redacted. What members' edits and deletes of their own messages
 * are made of; a store without it refuses them with STORAGE_ERR_UNSUPPORTED.
 */
export function describeContentReplacement(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('content replacement, every store', () => {
    // The other side of the optional group below: what the base class gives a store that cannot change a record.
    if (ctx.supports.replaceContent !== true) {
      test('without the capability replaceMessageContent is STORAGE_ERR_UNSUPPORTED and changes nothing', async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'));
        await store.appendMessages('c1', msgs('c1', 1, 2));
        await expectCode(store.replaceMessageContent('c1', 1, EDIT), 'STORAGE_ERR_UNSUPPORTED');
        expect((await store.readMessages('c1', 0, 1))[0].content).toBe('message 1 of c1');
      });
    }

    test('replacement arguments are validated', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await expectCode(store.replaceMessageContent('', 1, EDIT), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.replaceMessageContent('c1', 0, EDIT), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.replaceMessageContent('c1', 1.5, EDIT), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.replaceMessageContent('c1', 1, { ...EDIT, senderId: '' }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.replaceMessageContent('c1', 1, { ...EDIT, content: 5 as unknown as string }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.replaceMessageContent('c1', 1, { ...EDIT, content: 'nul \u0000' }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(
        store.replaceMessageContent('c1', 1, { ...EDIT, metadata: [] as unknown as Record<string, unknown> }),
        'STORAGE_ERR_INVALID_ARGUMENT',
      );
    });
  });

  ctx.group('content replacement', () => {
    test("replaces the sender's record's content, sets the metadata keys, keeps everything else", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 3));
      const before = (await store.readMessages('c1', 0, 1))[0];
      const changed = await store.replaceMessageContent('c1', 1, EDIT);
      const expected = { ...before, content: 'message 1, edited', metadata: { ...before.metadata, ...EDIT.metadata } };
      expect(changed).toEqual(expected);
      expect((await store.readMessages('c1', 0, 3))[0]).toEqual(expected);
      expect((await store.readLatestMessages('c1', 3))[0]).toEqual(expected);
      // The (sender, message_id) index still finds it; the neighbours are untouched.
      expect(await store.findSequenceByMessageId('c1', 'alice', 'c1-m1')).toBe(1);
      expect((await store.readMessages('c1', 1, 2)).map((m) => m.content)).toEqual(['message 2 of c1', 'message 3 of c1']);
      // A second replacement of the same record (a second edit) replaces again.
      const again = await store.replaceMessageContent('c1', 1, { ...EDIT, content: 'twice', metadata: { edit_count: 2 } });
      expect(again?.content).toBe('twice');
      expect(again?.metadata).toEqual({ ...before.metadata, ...EDIT.metadata, edit_count: 2 });
    });

    test("another sender's record, an id not held and a redacted record are left alone (undefined)", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 3));
      expect(await store.replaceMessageContent('c1', 2, EDIT)).toBeUndefined(); // bob's
      expect(await store.replaceMessageContent('c1', 9, EDIT)).toBeUndefined();
      expect(await store.replaceMessageContent('ghost', 1, EDIT)).toBeUndefined();
      await store.redactMessages('c1', { messageIds: ['c1-m3'] });
      expect(await store.replaceMessageContent('c1', 3, EDIT)).toBeUndefined();
      expect((await store.readMessages('c1', 0, 3)).map((m) => m.content)).toEqual([
        'message 1 of c1',
        'message 2 of c1',
        REDACTION_MARKER,
      ]);
    });

    test('a delete is a replacement by the redaction marker: final, as a redaction is', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', [msg('c1', 1), msg('c1', 2, { sender_id: 'system', sender_type: 'system', message_type: 'edit' })]);
      await store.replaceMessageContent('c1', 1, EDIT);
      const deleted = await store.replaceMessageContent('c1', 1, {
        senderId: 'alice',
        content: REDACTION_MARKER,
        metadata: { redacted: true },
      });
      expect(deleted?.content).toBe(REDACTION_MARKER);
      expect([deleted?.metadata.redacted, deleted?.metadata.edited]).toEqual([true, true]);
      expect(await store.replaceMessageContent('c1', 1, EDIT)).toBeUndefined();
      // A system record (an edit record whose text goes with a deleted message) is replaced under the system sender.
      expect(
        (await store.replaceMessageContent('c1', 2, { senderId: 'system', content: REDACTION_MARKER, metadata: { redacted: true } }))
          ?.content,
      ).toBe(REDACTION_MARKER);
    });

    ctx.testIf('durable')('a replacement survives a reopen', async () => {
      await ctx.store.createConversation(meta('c1'));
      await ctx.store.appendMessages('c1', msgs('c1', 1, 2));
      await ctx.store.replaceMessageContent('c1', 1, EDIT);
      const other = await ctx.reopen();
      const [first] = await other.readMessages('c1', 0, 1);
      expect(first.content).toBe('message 1, edited');
      expect(first.metadata).toEqual({ ...msg('c1', 1).metadata, ...EDIT.metadata });
    });
  });
}
