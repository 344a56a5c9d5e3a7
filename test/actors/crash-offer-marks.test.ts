import type { Agent } from '../../actors';
import { makeCrashingRuntime } from './crash-helpers';
import { createMultiModeRoom, settle } from './runtime-helpers';

/**
 * The agents' offer marks (actors/offer-cursor.ts) cover the turns a machine crash left unoffered too: the restarted
 * machine offers them (machine-supervisor.ts) and marks them, so a process crash after that does not have the next
 * load offer the same burst a second time.
 */
describe('offer marks of the turns a machine crash left', () => {
  it("a burst handed over by an AI member's post whose delivery crashed: offered after the restart, and marked", async () => {
    const offered: string[] = [];
    const shy: Agent = {
      id: 'shy',
      displayName: 'Shy',
      wantsTurn: (m) => {
        if (m.sender_type === 'human') offered.push(m.message_id);
        return false;
      },
      async *respond() {
        yield* [];
      },
    };
    const { runtime, store, restarts, subscribeAroundFault } = await makeCrashingRuntime({ agents: [shy] });
    await createMultiModeRoom(runtime, 'shy');
    await subscribeAroundFault(['alice', 'alice', 'alice'], (m) => m.sender_id === 'shy');
    const waiting = await runtime.post('c', { sender_id: 'alice', message_id: 'a1', content: 'lunch?' });
    await waiting.whenPersisted;
    // The AI member posts (an external agent): its step hands the waiting burst to the agents, and its delivery crashes
    // before the turn is offered.
    await runtime.post('c', { sender_id: 'shy', message_id: 's1', content: 'menu of the day' });
    await settle();
    expect(restarts.count).toBe(1);
    expect(offered).toEqual(['a1']);
    expect((await store.getReadPositions('c')).get('shy')).toBe(waiting.sequence_id);
    await runtime.close();
  });
});
