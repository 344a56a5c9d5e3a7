import type { ChatRuntime } from '../../actors/runtime-types';
import { createRoster, type Roster } from '../../client/roster';
import type { ParticipantListFrame, ParticipantUpdateFrame, PresenceFrame } from '../../client/protocol-frames';
import { closeAll, invalidFrames, startHarness, track, type Harness } from './harness';
import { TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** One member's socket: what it received (frames, bytes) and the roster the reference client keeps from it. */
interface MemberSocket {
  readonly userId: string;
  readonly client: TestClient;
  readonly roster: Roster;
  bytes: number;
  lists: number;
  /** Resolves once this socket's roster names `total` members, every human among them online. */
  whenFull(total: number, humans: number): Promise<void>;
}

/** Opens a socket and feeds every frame to a reference-client roster from the first byte on. */
function openMember(h: Harness, conversationId: string, userId: string, params: Record<string, string> = {}): MemberSocket {
  const client = track(new TestClient(h.wsUrl(conversationId, userId, params)));
  const roster = createRoster({
    emitParticipants: () => undefined,
    emitMode: () => undefined,
    emitPresence: () => undefined,
    emitRead: () => undefined,
  });
  let full: { total: number; humans: number; resolve: () => void } | undefined;
  const checkFull = (): void => {
    if (full && roster.participants.length === full.total && roster.online.length === full.humans) full.resolve();
  };
  const member: MemberSocket = {
    userId,
    client,
    roster,
    bytes: 0,
    lists: 0,
    whenFull: (total, humans) =>
      new Promise((resolve) => {
        full = { total, humans, resolve };
        checkFull();
      }),
  };
  // Registered after TestClient's own listener: the roster is checked here, once this frame is applied.
  client.ws.on('message', (data: Buffer) => {
    member.bytes += data.length;
    const frame = JSON.parse(data.toString()) as { type: string };
    if (frame.type === 'participant_list') {
      member.lists++;
      roster.onList(frame as ParticipantListFrame);
    } else if (frame.type === 'participant_update') roster.onUpdate(frame as ParticipantUpdateFrame);
    else if (frame.type === 'presence') roster.onPresence(frame as PresenceFrame);
    checkFull();
  });
  return member;
}

const sorted = (ids: Iterable<string>): string[] => [...ids].sort();

/**
 * `owner` is connected alone in a conversation (plus `agents` AI members); then `joiners` humans connect at once
 * with `join=true`. Resolves once every socket's roster holds every member, online.
 */
async function massJoin(h: Harness, joiners: number, agents = 0): Promise<{ conv: string; members: MemberSocket[]; ms: number }> {
  const conv = await createRoom(h.runtime, agents);
  const owner = openMember(h, conv, 'owner');
  await owner.client.waitFor('participant_list');
  const started = performance.now();
  const joining = Array.from({ length: joiners }, (_, i) => openMember(h, conv, `user-${i}`, { join: 'true' }));
  const members = [owner, ...joining];
  const humans = members.length;
  // Online counts humans only: a full roster names the agents too but never has them online.
  await Promise.all(members.map((m) => m.whenFull(humans + agents, humans)));
  return { conv, members, ms: performance.now() - started };
}

async function createRoom(runtime: ChatRuntime, agents: number): Promise<string> {
  const { conversation_id } = await runtime.createConversation({
    created_by: 'owner',
    participants: Array.from({ length: agents }, (_, i) => ({
      participant_id: `agent-${i}`,
      participant_type: 'ai' as const,
      external: true,
    })),
    autoJoinAgents: false,
  });
  return conversation_id;
}

describe('a mass join', () => {
  it('gives every socket exactly one participant_list (its welcome) and a roster equal to the server list from updates', async () => {
    const h = await startHarness();
    const { conv, members } = await massJoin(h, 24);
    const summary = (await h.request('GET', `/chat/conversations/${conv}`, 'owner')).body as {
      participants: Array<{ participant_id: string }>;
      online: string[];
    };
    expect(members.map((m) => m.lists)).toEqual(members.map(() => 1));
    for (const m of members) {
      expect(sorted(m.roster.participants.map((p) => p.participant_id))).toEqual(sorted(summary.participants.map((p) => p.participant_id)));
      expect(sorted(m.roster.online)).toEqual(sorted(summary.online));
    }
  });

  it('costs the first member bytes linear in the joiners (4x the joiners, at most 6x the bytes; a list per join made it 8.6x)', async () => {
    const h = await startHarness();
    const small = await massJoin(h, 10);
    const large = await massJoin(h, 40);
    const ratio = large.members[0].bytes / small.members[0].bytes;
    expect(ratio).toBeLessThan(6);
  });

  // The room of docs/protocol.md, Measured: 100 members (98 humans on their own sockets, 2 agents), 97 join at once.
  it('room of 100: prints frames and bytes per socket, the room total and the time until every roster is full', async () => {
    const h = await startHarness();
    const { members, ms } = await massJoin(h, 97, 2);
    const bytes = members.map((m) => m.bytes).sort((a, b) => a - b);
    const kb = (n: number): string => `${(n / 1024).toFixed(1)} KB`;
    const total = bytes.reduce((a, b) => a + b, 0);
    process.stdout.write(
      `mass join of 97 into a room of 100: ${ms.toFixed(0)} ms until every roster is full; ` +
        `first member ${members[0].client.frames.length} frames, ${kb(members[0].bytes)}; ` +
        `the last to join ${Math.min(...members.map((m) => m.client.frames.length))} frames; ` +
        `median ${kb(bytes[bytes.length >> 1])} per socket; room ${(total / 1024 / 1024).toFixed(2)} MB\n`,
    );
    expect(members.map((m) => m.lists)).toEqual(members.map(() => 1));
  });
});
