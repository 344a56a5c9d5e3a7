import { collector, makeRuntime } from './runtime-helpers';

describe("a subscription's participant list", () => {
  test('is one shared, frozen list per membership state: a room of N connections keeps one list, not N', async () => {
    const { runtime } = await makeRuntime({ agents: [] });
    try {
      const members = ['alice', 'bob', 'carol'];
      await runtime.createConversation({
        conversation_id: 'room',
        created_by: 'alice',
        participants: members.slice(1).map((id) => ({ participant_id: id, participant_type: 'human' as const })),
      });
      const subs = await Promise.all(members.map((id) => runtime.subscribe('room', id, collector().listener)));
      expect(subs[0]!.participants.map((p) => p.participant_id).sort()).toEqual(members);
      expect(subs[1]!.participants).toBe(subs[0]!.participants);
      expect(subs[2]!.participants).toBe(subs[0]!.participants);
      expect(Object.isFrozen(subs[0]!.participants)).toBe(true);

      // A join makes a new list for later subscribers; earlier ones keep the list of their moment.
      await runtime.join('room', { participant_id: 'dave', participant_type: 'human' });
      const later = await runtime.subscribe('room', 'dave', collector().listener);
      expect(later.participants.map((p) => p.participant_id).sort()).toEqual([...members, 'dave']);
      expect(subs[0]!.participants.map((p) => p.participant_id).sort()).toEqual(members);
      for (const s of [...subs, later]) s.close();
    } finally {
      await runtime.close();
    }
  });
});
