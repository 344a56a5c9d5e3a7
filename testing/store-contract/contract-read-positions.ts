import { expectCode, type ContractContext } from './chat-store.contract';
import { agent, meta, msg, msgs, person } from './fixtures';

/**
 * Unread counts (every store: the base class counts from _readMessages for a provider without a query of its own)
 * and read positions (stores with `supports.readPositions`): how far each member has read, kept apart from the
 * journal (never a record, never a sequence id), raised only.
 */
export function describeUnreadCounts(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('unread counts', () => {
    test("counts others' text and nlweb_response records in (after, upTo], not one's own or bookkeeping", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.createConversation(meta('c2'));
      // 1..6: alice odd, bob even (text); 7 a system join; 8 an AI answer piece; 9 an agent job note.
      await store.appendMessages('c1', [
        ...msgs('c1', 1, 6),
        msg('c1', 7, { sender_id: 'system', sender_type: 'system', message_type: 'join', message_id: 'join-7' }),
        msg('c1', 8, { sender_id: 'nlweb', sender_type: 'ai', message_type: 'nlweb_response' }),
        msg('c1', 9, { sender_id: 'system', sender_type: 'system', message_type: 'agent_job_started', message_id: 'job-9' }),
      ]);
      await store.appendMessages('c2', msgs('c2', 1, 4));
      const ranges = [
        { conversationId: 'c1', after: 0, upTo: 9 },
        { conversationId: 'c2', after: 2, upTo: 4 },
        { conversationId: 'ghost', after: 0, upTo: 10 },
      ];
      expect(await store.countUnread('alice', ranges)).toEqual(
        new Map([
          ['c1', 4], // bob's 2, 4, 6 and the answer 8
          ['c2', 1], // bob's 4
          ['ghost', 0],
        ]),
      );
      expect(await store.countUnread('bob', ranges)).toEqual(
        new Map([
          ['c1', 4],
          ['c2', 1],
          ['ghost', 0],
        ]),
      );
      // The bounds: after excluded, upTo included; an empty range counts nothing.
      expect(await store.countUnread('carol', [{ conversationId: 'c1', after: 2, upTo: 5 }])).toEqual(new Map([['c1', 3]]));
      expect(await store.countUnread('carol', [{ conversationId: 'c1', after: 5, upTo: 5 }])).toEqual(new Map([['c1', 0]]));
      expect(await store.countUnread('carol', [{ conversationId: 'c1', after: 9, upTo: 3 }])).toEqual(new Map([['c1', 0]]));
      expect(await store.countUnread('carol', [])).toEqual(new Map());
    });

    test("an agent's answer counts once: its later pieces (metadata.part 2, 3, ...) are not unread", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      const piece = (seq: number, part: unknown, jobId = 'job-1'): ReturnType<typeof msg> =>
        msg('c1', seq, {
          sender_id: 'nlweb',
          sender_type: 'ai',
          message_type: 'nlweb_response',
          message_id: `${jobId}:${String(part)}`,
          metadata: { job_id: jobId, part, complete: false },
        });
      // 1 bob's question; 2-4 one answer in three pieces; 5 a second answer's first piece; 6 alice; 7 an AI record
      // whose part is not a number (a store's rule reads numbers only); 8 a human text that carries a part.
      await store.appendMessages('c1', [
        msg('c1', 1, { sender_id: 'bob' }),
        piece(2, 1),
        piece(3, 2),
        piece(4, 3),
        piece(5, 1, 'job-2'),
        msg('c1', 6, { sender_id: 'alice' }),
        piece(7, '2', 'job-3'),
        msg('c1', 8, { sender_id: 'bob', metadata: { part: 5 } }),
      ]);
      const all = [{ conversationId: 'c1', after: 0, upTo: 8 }];
      // alice: bob's 1 and 8, answers 2 and 5, the odd 7.
      expect(await store.countUnread('alice', all)).toEqual(new Map([['c1', 5]]));
      // Read up to the answer's first piece: its later pieces are nothing new.
      expect(await store.countUnread('alice', [{ conversationId: 'c1', after: 2, upTo: 4 }])).toEqual(new Map([['c1', 0]]));
      expect(await store.countUnread('bob', all)).toEqual(new Map([['c1', 4]]));
    });

    test('stops at the limit (a count at the limit means at least that many)', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await store.appendMessages('c1', msgs('c1', 1, 30));
      const all = [{ conversationId: 'c1', after: 0, upTo: 30 }];
      expect(await store.countUnread('carol', all)).toEqual(new Map([['c1', 30]]));
      expect(await store.countUnread('carol', all, 7)).toEqual(new Map([['c1', 7]]));
      expect(await store.countUnread('alice', all, 15)).toEqual(new Map([['c1', 15]]));
    });

    test('arguments are validated', async () => {
      const { store } = ctx;
      const ok = { conversationId: 'c1', after: 0, upTo: 1 };
      await expectCode(store.countUnread('', [ok]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [ok], 0), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [ok], 1001), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [{ ...ok, after: -1 }]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [{ ...ok, upTo: 1.5 }]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [{ ...ok, conversationId: '' }]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.countUnread('alice', [ok, ok]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.saveReadPositions('c1', new Map([['alice', -1]])), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.saveReadPositions('c1', new Map([['', 1]])), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.getReadPositionsOf('', ['c1']), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.getReadPositions(''), 'STORAGE_ERR_INVALID_ARGUMENT');
    });

    // The other side of the optional group below: what the base class gives a store that keeps no read positions
    // (a provider written before them): saves are dropped, reads answer none; the runtime then keeps positions only
    // while the conversation is live.
    if (ctx.supports.readPositions !== true) {
      test('without the capability, saved read positions are dropped and none are read', async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'), [person('alice')]);
        await store.saveReadPositions('c1', new Map([['alice', 3]]));
        expect(await store.getReadPositions('c1')).toEqual(new Map());
        expect(await store.getReadPositionsOf('alice', ['c1'])).toEqual(new Map());
      });
    }
    // A store that keeps positions but was written before lowerReadPositions: the call validates and does nothing, so
    // the runtime still loads (the position is taken down in memory only, as before).
    if (ctx.supports.lowerReadPositions !== true) {
      test('without the capability, lowerReadPositions changes nothing and answers 0', async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'), [person('alice')]);
        await store.saveReadPositions('c1', new Map([['alice', 30]]));
        const before = await store.getReadPositions('c1');
        expect(await store.lowerReadPositions('c1', 10)).toBe(0);
        expect(await store.getReadPositions('c1')).toEqual(before);
        await expectCode(store.lowerReadPositions('c1', -1), 'STORAGE_ERR_INVALID_ARGUMENT');
      });
    }
  });
}

export function describeReadPositions(ctx: ContractContext): void {
  const { test, expect } = ctx.runner;
  ctx.group('read positions', () => {
    test('round-trip per member; a save only raises; members without one are absent', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), person('bob'), person('carol')]);
      await store.appendMessages('c1', msgs('c1', 1, 9));
      expect(await store.getReadPositions('c1')).toEqual(new Map());
      await store.saveReadPositions(
        'c1',
        new Map([
          ['alice', 5],
          ['bob', 2],
        ]),
      );
      expect(await store.getReadPositions('c1')).toEqual(
        new Map([
          ['alice', 5],
          ['bob', 2],
        ]),
      );
      // Lower and equal values change nothing (a late write of an older position), higher ones raise.
      await store.saveReadPositions(
        'c1',
        new Map([
          ['alice', 3],
          ['bob', 7],
        ]),
      );
      await store.saveReadPositions('c1', new Map([['alice', 5]]));
      expect(await store.getReadPositions('c1')).toEqual(
        new Map([
          ['alice', 5],
          ['bob', 7],
        ]),
      );
      // Not journal records: the journal is untouched.
      expect(await store.lastSequenceId('c1')).toBe(9);
      expect((await store.readMessages('c1', 0, 100)).length).toBe(9);
    });

    test('ids that never were members and unknown conversations keep nothing; a former member keeps its position', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), person('bob')]);
      await store.saveReadPositions(
        'c1',
        new Map([
          ['mallory', 4],
          ['alice', 2],
        ]),
      );
      await store.saveReadPositions('ghost', new Map([['alice', 4]]));
      expect(await store.getReadPositions('c1')).toEqual(new Map([['alice', 2]]));
      expect(await store.getReadPositions('ghost')).toEqual(new Map());
      await store.removeParticipant('c1', 'alice');
      expect(await store.getReadPositions('c1')).toEqual(new Map([['alice', 2]]));
      await store.saveReadPositions('c1', new Map([['alice', 3]]));
      // A re-join (an upsert) keeps it too: the runtime reads max(position, joined_at_sequence).
      await store.putParticipant('c1', person('alice', 8));
      expect(await store.getReadPositions('c1')).toEqual(new Map([['alice', 3]]));
    });

    // The runtime keeps an AI member's mark of the humans' posts it was offered as its position (actors/offer-cursor.ts):
    // a load after a crash reads it to offer a waiting burst once. Positions are kept per member, whatever its type.
    test("an AI member's position is kept like a human's (the agents' offer mark)", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), agent('nlweb', 2)]);
      await store.appendMessages('c1', msgs('c1', 1, 6));
      await store.saveReadPositions('c1', new Map([['nlweb', 5]]));
      await store.saveReadPositions('c1', new Map([['nlweb', 4]]));
      expect(await store.getReadPositions('c1')).toEqual(new Map([['nlweb', 5]]));
    });

    test("getReadPositionsOf gives one participant's positions across conversations", async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), person('bob')]);
      await store.createConversation(meta('c2'), [person('alice')]);
      await store.createConversation(meta('c3'), [person('alice')]);
      await store.saveReadPositions(
        'c1',
        new Map([
          ['alice', 4],
          ['bob', 9],
        ]),
      );
      await store.saveReadPositions('c2', new Map([['alice', 1]]));
      expect(await store.getReadPositionsOf('alice', ['c1', 'c2', 'c3', 'ghost', 'c1'])).toEqual(
        new Map([
          ['c1', 4],
          ['c2', 1],
        ]),
      );
      expect(await store.getReadPositionsOf('bob', ['c1', 'c2'])).toEqual(new Map([['c1', 9]]));
      expect(await store.getReadPositionsOf('alice', [])).toEqual(new Map());
    });

    test('a rejected save changes nothing; deleteConversation removes them; a re-created id starts with none', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), person('bob')]);
      await store.saveReadPositions('c1', new Map([['alice', 4]]));
      await expectCode(
        store.saveReadPositions(
          'c1',
          new Map([
            ['bob', 6],
            ['alice', 1.5],
          ]),
        ),
        'STORAGE_ERR_INVALID_ARGUMENT',
      );
      expect(await store.getReadPositions('c1')).toEqual(new Map([['alice', 4]]));
      await store.deleteConversation('c1');
      expect(await store.getReadPositions('c1')).toEqual(new Map());
      await store.createConversation(meta('c1'), [person('alice')]);
      expect(await store.getReadPositions('c1')).toEqual(new Map());
    });

    // The one write that lowers: after a journal loss the runtime takes positions above the conversation's end down
    // to it in the store too, so that what reads the store (another server, a list page, the replay CLI) agrees.
    ctx.testIf('lowerReadPositions')(
      'lowerReadPositions takes the positions above upTo down to it, leaves the rest, answers how many',
      async () => {
        const { store } = ctx;
        await store.createConversation(meta('c1'), [person('alice'), person('bob'), person('carol'), person('dave')]);
        await store.createConversation(meta('c2'), [person('alice')]);
        await store.appendMessages('c1', msgs('c1', 1, 10));
        await store.saveReadPositions(
          'c1',
          new Map([
            ['alice', 30],
            ['bob', 11],
            ['carol', 10],
            ['dave', 4],
          ]),
        );
        await store.saveReadPositions('c2', new Map([['alice', 30]]));
        expect(await store.lowerReadPositions('c1', 10)).toBe(2);
        expect(await store.getReadPositions('c1')).toEqual(
          new Map([
            ['alice', 10],
            ['bob', 10],
            ['carol', 10],
            ['dave', 4],
          ]),
        );
        expect(await store.getReadPositionsOf('alice', ['c1', 'c2'])).toEqual(
          new Map([
            ['c1', 10],
            ['c2', 30],
          ]),
        );
        // Nothing above: nothing written. Raising works as before from the lowered value.
        expect(await store.lowerReadPositions('c1', 10)).toBe(0);
        await store.saveReadPositions('c1', new Map([['alice', 12]]));
        expect((await store.getReadPositions('c1')).get('alice')).toBe(12);
        // Down to 0 (a conversation with no record left): read as none, like a member that never marked.
        expect(await store.lowerReadPositions('c2', 0)).toBe(1);
        expect(await store.getReadPositions('c2')).toEqual(new Map());
        expect(await store.lowerReadPositions('ghost', 0)).toBe(0);
        // The journal is untouched.
        expect(await store.lastSequenceId('c1')).toBe(10);
        await expectCode(store.lowerReadPositions('', 1), 'STORAGE_ERR_INVALID_ARGUMENT');
        await expectCode(store.lowerReadPositions('c1', -1), 'STORAGE_ERR_INVALID_ARGUMENT');
        await expectCode(store.lowerReadPositions('c1', 1.5), 'STORAGE_ERR_INVALID_ARGUMENT');
        expect((await store.getReadPositions('c1')).get('alice')).toBe(12);
      },
    );

    ctx.testIf('durable')('a durable store keeps them across close + reopen; instances sharing a location see each other', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'), [person('alice'), person('bob')]);
      await store.saveReadPositions(
        'c1',
        new Map([
          ['alice', 12],
          ['bob', 3],
        ]),
      );
      await store.close();
      const again = await ctx.reopen();
      expect(await again.getReadPositions('c1')).toEqual(
        new Map([
          ['alice', 12],
          ['bob', 3],
        ]),
      );
      if (!again.supports.sharedAcrossProcesses) return;
      const other = await ctx.reopen();
      await other.saveReadPositions('c1', new Map([['bob', 20]]));
      expect(await again.getReadPositionsOf('bob', ['c1'])).toEqual(new Map([['c1', 20]]));
    });
  });
}
