import fc from 'fast-check';
import { isChatError, type ChatMessage } from '../../actors';
import { makeRuntime, collector, settle } from './runtime-helpers';

const HUMANS = ['h0', 'h1', 'h2', 'h3'];
type Op =
  | { kind: 'join' | 'leave' | 'connect'; who: number }
  | { kind: 'post'; who: number; id: number }
  | { kind: 'disconnect'; index: number }
  | { kind: 'advance' }
  | { kind: 'settle' };

const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('join' as const), who: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('leave' as const), who: fc.integer({ min: 1, max: 3 }) }),
  fc.record({ kind: fc.constant('connect' as const), who: fc.integer({ min: 0, max: 3 }) }),
  {
    arbitrary: fc.record({ kind: fc.constant('post' as const), who: fc.integer({ min: 0, max: 3 }), id: fc.integer({ min: 0, max: 4 }) }),
    weight: 4,
  },
  fc.record({ kind: fc.constant('disconnect' as const), index: fc.nat(10) }),
  fc.record({ kind: fc.constant('advance' as const) }),
  fc.record({ kind: fc.constant('settle' as const) }),
);

describe('ordering invariants (property)', () => {
  it('every connection sees one gap-free, duplicate-free slice of the same total order; a retried message_id never gets two sequence ids', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(opArb, { minLength: 1, maxLength: 40 }), async (ops) => {
        const { runtime, store, clock } = await makeRuntime();
        await runtime.createConversation({
          conversation_id: 'c',
          created_by: 'h0',
          participants: [{ participant_id: 'echo', participant_type: 'ai' }],
        });
        const connections: Array<{ who: string; c: ReturnType<typeof collector>; close: () => void }> = [];
        const seqByMessage = new Map<string, number>();
        for (const op of ops) {
          const who = 'who' in op ? HUMANS[op.who] : '';
          const tolerate = (e: unknown) => {
            if (!isChatError(e, 'CHAT_ERR_NOT_PARTICIPANT')) throw e;
          };
          if (op.kind === 'join') await runtime.join('c', { participant_id: who, participant_type: 'human' });
          if (op.kind === 'leave') await runtime.leave('c', who).catch(tolerate);
          if (op.kind === 'connect') {
            const c = collector();
            const sub = await runtime.subscribe('c', who, c.listener).catch(tolerate);
            if (sub) connections.push({ who, c, close: sub.close });
          }
          if (op.kind === 'disconnect' && connections.length > 0) connections[op.index % connections.length].close();
          if (op.kind === 'post') {
            const key = `${who}/m${op.id}`;
            const r = await runtime.post('c', { sender_id: who, message_id: `m${op.id}`, content: key }).catch(tolerate);
            if (r) {
              if (seqByMessage.has(key)) expect(r.sequence_id).toBe(seqByMessage.get(key));
              seqByMessage.set(key, r.sequence_id);
            }
          }
          if (op.kind === 'advance') clock.advance(2500);
          if (op.kind === 'settle') await settle(5);
        }
        clock.advance(2500);
        await settle();
        const journal = await store.readMessages('c', 0, 10_000);
        expect(journal.map((m) => m.sequence_id)).toEqual(journal.map((_, i) => i + 1));
        const ids = journal.filter((m) => m.sender_type !== 'system').map((m) => `${m.sender_id}/${m.message_id}`);
        expect(new Set(ids).size).toBe(ids.length);
        for (const { who, c } of connections) {
          const seen: ChatMessage[] = c.messages;
          for (let i = 1; i < seen.length; i++) expect(seen[i].sequence_id).toBe(seen[i - 1].sequence_id + 1);
          for (const m of seen) expect(m).toEqual(journal[m.sequence_id - 1]);
          // nothing after the participant's own leave record
          const leaveAt = seen.findIndex((m) => m.message_type === 'leave' && m.sender_id === who);
          if (leaveAt >= 0) expect(seen.length).toBe(leaveAt + 1);
        }
        await runtime.close();
      }),
      { numRuns: 60 },
    );
  });
});
