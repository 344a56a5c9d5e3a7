import { createMultiModeRoom, decliningAgent, makeRuntime, settle } from './runtime-helpers';

/**
 * An AI member's stored read position is the agents' offer mark (actors/offer-cursor.ts), not a reading: the runtime
 * shows an AI member at its join record, as before the marks were kept, whether the conversation is live or not.
 */

describe("the agents' offer marks are not shown as readings", () => {
  it("an AI member's readUpTo stays its join record, live and after a passivation", async () => {
    const { runtime, clock, store } = await makeRuntime({
      agents: [decliningAgent('shy')],
      config: { chat: { supervision: { idle_timeout_s: 30 }, input: { multi_mode_window_ms: 2000 } } },
    });
    await createMultiModeRoom(runtime, 'shy');
    const joinedAt = (await runtime.getConversation('c')).participants.find((p) => p.participant_id === 'shy')!.joined_at_sequence;
    const posted = await runtime.post('c', { sender_id: 'alice', message_id: 'm1', content: 'hello?' });
    await posted.whenPersisted;
    clock.advance(2000);
    await settle();
    // The offer (declined) raised the mark in the store.
    expect((await store.getReadPositions('c')).get('shy')).toBe(posted.sequence_id);

    const readUpTo = async () => (await runtime.listConversationPage('shy', { limit: 10 })).entries[0].readUpTo;
    expect(await readUpTo()).toBe(joinedAt);
    clock.advance(30_000);
    await settle();
    expect(runtime.health().conversations).toBe(0);
    expect(await readUpTo()).toBe(joinedAt);
    await runtime.close();
  });
});
