import { createManualClock, type ManualClock } from '../../actors/clock';
import { startHarness } from './harness';
import type { TestClient } from './ws-test-client';

/** A room of human members, each on its own real socket, the server's gateway and runtime on one manual clock. */
export interface TypingRoom {
  readonly clock: ManualClock;
  readonly conversationId: string;
  readonly members: readonly TestClient[];
  /** Every member sends a ping and gets its pong: the server has handled every frame each member sent before. */
  barrier(): Promise<void>;
  /** The `typing` frames `member` received, as [participant_id, is_typing]. */
  typingSeenBy(member: TestClient): Array<[string, boolean]>;
}

export const memberId = (i: number): string => `m${i}`;

export async function openTypingRoom(size: number): Promise<TypingRoom> {
  const clock = createManualClock();
  const h = await startHarness({}, { clock, runtimeClock: clock });
  const ids = Array.from({ length: size }, (_v, i) => memberId(i));
  const conversationId = await h.createConversation(ids[0], ids.slice(1));
  const members: TestClient[] = [];
  for (const id of ids) members.push(await h.connect(conversationId, id));
  return {
    clock,
    conversationId,
    members,
    async barrier() {
      // Twice: the first round says every member's frames were handled (the fan-out is written), the second that
      // what was written to each socket before its second pong has arrived (one socket's frames keep their order).
      for (let round = 0; round < 2; round++)
        await Promise.all(
          members.map((m) => {
            m.send({ type: 'ping' });
            return m.next('pong');
          }),
        );
    },
    typingSeenBy: (member) =>
      member.frames.flatMap((f) => (f.type === 'typing' ? [[f.participant_id, f.is_typing] as [string, boolean]] : [])),
  };
}
