/**
 * The reference client's read positions against the real server: markRead, the `read` event and readPositions
 * from the welcome, and a mark made while disconnected said once connected.
 */
import { WebSocket } from 'ws';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, WebSocketConstructor } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
let clock: ManualClock;
const clients = testClients();

function client(userId: string, conversationId = 'conv'): ChatClient {
  return clients.open(stack.wsUrl, { conversationId, userId, clock });
}

beforeEach(async () => {
  clock = createManualClock();
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice', 'bob']);
  for (let i = 1; i <= 3; i++) await stack.runtime.post('conv', { sender_id: 'alice', message_id: `a${i}`, content: `line ${i}` });
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

describe('reference client read positions', () => {
  it("reads everyone's position from the welcome, marks its own, and hears the others'", async () => {
    const last = (await stack.runtime.getConversation('conv')).last_sequence_id;
    const alice = client('alice');
    const aliceReads: Array<[string, number]> = [];
    alice.on('read', (r) => aliceReads.push([r.participantId, r.sequenceId]));
    const aliceWelcome = nextEvent(alice, 'participants');
    alice.connect();
    await aliceWelcome;
    const bobJoinedAt = alice.participants.find((p) => p.participant_id === 'bob')!.joined_at_sequence;
    expect(Object.fromEntries(alice.readPositions)).toEqual({ alice: 1, bob: bobJoinedAt });

    const bob = client('bob');
    const bobWelcome = nextEvent(bob, 'participants');
    bob.connect();
    await bobWelcome;
    const heard = nextEvent(alice, 'read', (r) => r.participantId === 'bob');
    bob.markRead(last - 1);
    expect(await heard).toEqual({ participantId: 'bob', sequenceId: last - 1 });
    expect(alice.readPositions.get('bob')).toBe(last - 1);
    // A lower mark sends nothing; the server keeps the higher one.
    bob.markRead(2);
    expect((await stack.runtime.readState('conv', 'bob')).readUpTo).toBe(last - 1);
    expect(() => bob.markRead(-1)).toThrow(RangeError);
    expect(aliceReads).toEqual([
      ['alice', 1],
      ['bob', bobJoinedAt],
      ['bob', last - 1],
    ]);
  });

  it('a member who leaves drops out of readPositions, live or while the client was away', async () => {
    await stack.createConversation('room', ['alice', 'bob', 'carol']);
    const alice = client('alice', 'room');
    const welcomed = nextEvent(alice, 'read', (r) => r.participantId === 'carol');
    await alice.connect();
    await welcomed;
    expect([...alice.readPositions.keys()].sort()).toEqual(['alice', 'bob', 'carol']);

    // Live: the leave's participant_update takes bob out, as it takes him out of `online`.
    const left = nextEvent(alice, 'participants', (p) => p.change?.action === 'leave');
    await stack.runtime.leave('room', 'bob');
    await left;
    expect([...alice.readPositions.keys()].sort()).toEqual(['alice', 'carol']);

    // Away: the next connection's participant_list no longer names carol, so neither does readPositions.
    const reconnecting = nextEvent(alice, 'reconnecting');
    await stack.stopServer();
    await reconnecting;
    await stack.runtime.leave('room', 'carol');
    await stack.startServer();
    const welcome = nextEvent(alice, 'participants');
    clock.advance(1000);
    await welcome;
    expect([...alice.readPositions.keys()]).toEqual(['alice']);
  });

  it('a mark made before connecting is sent once the welcome shows the server has less', async () => {
    const last = (await stack.runtime.getConversation('conv')).last_sequence_id;
    const bob = client('bob');
    bob.markRead(last);
    const raised = nextEvent(bob, 'read', (r) => r.participantId === 'bob' && r.sequenceId === last);
    bob.connect();
    // Bob's own socket hears the raise it caused (its other tabs would too).
    await raised;
    expect(await stack.runtime.readState('conv', 'bob')).toEqual({ readUpTo: last, unreadCount: 0 });
  });
  it('a mark past the end (records the server no longer has) is taken as the end: later marks are still sent', async () => {
    const head = (await stack.runtime.getConversation('conv')).last_sequence_id;
    // The `read` frames the client sends, as the server gets them.
    const sentReads: number[] = [];
    class ReadRecordingWebSocket extends WebSocket {
      override send(data: string): void {
        const frame = JSON.parse(data) as { type: string; sequence_id?: number };
        if (frame.type === 'read') sentReads.push(frame.sequence_id!);
        super.send(data);
      }
    }
    // Bob remembers 100 records and read them all; the server (its memory journal lost in a restart) has `head`.
    const bob = clients.open(stack.wsUrl, {
      conversationId: 'conv',
      userId: 'bob',
      clock,
      lastSequenceId: 100,
      WebSocketImpl: ReadRecordingWebSocket as unknown as WebSocketConstructor,
    });
    bob.markRead(100);
    const welcomed = nextEvent(bob, 'participants');
    bob.connect();
    await welcomed;
    expect(sentReads).toEqual([head]);
    const record = await stack.runtime.post('conv', { sender_id: 'alice', message_id: 'after-restart', content: 'new' });
    // Shown and read: it must reach the server, though its id is below the mark of the lost incarnation.
    bob.markRead(record.sequence_id);
    expect(sentReads).toEqual([head, record.sequence_id]);
  });
});

describe('whose positions the roster holds', () => {
  it('a human joining while connected is at its join record; an AI member has no position, and marking one is refused', async () => {
    // A server with an agent that declines every turn (it only needs to be a member).
    await stack.close();
    stack = await startRealStack({
      agents: [{ id: 'helper-bot', displayName: 'Helper', wantsTurn: () => false, respond: async function* () {} }],
    });
    await stack.createConversation('conv', ['alice', 'bob']);
    const alice = client('alice');
    const welcome = nextEvent(alice, 'participants');
    alice.connect();
    await welcome;
    const carolRead = nextEvent(alice, 'read', (r) => r.participantId === 'carol');
    const joined = nextEvent(alice, 'participants', (p) => p.change?.participant.participant_id === 'carol');
    await stack.runtime.join('conv', { participant_id: 'carol', participant_type: 'human' });
    const carolAt = (await joined).change!.participant.joined_at_sequence;
    expect(await carolRead).toEqual({ participantId: 'carol', sequenceId: carolAt });
    expect(alice.readPositions.get('carol')).toBe(carolAt);

    // An AI member reads nothing: absent from every welcome, and the runtime refuses to mark for it.
    await stack.runtime.join('conv', { participant_id: 'helper-bot', participant_type: 'ai', agent_id: 'helper-bot' });
    await expect(stack.runtime.markRead('conv', 'helper-bot', 1)).rejects.toMatchObject({ code: 'CHAT_ERR_FORBIDDEN' });
    const bob = client('bob');
    const bobWelcome = nextEvent(bob, 'participants');
    bob.connect();
    await bobWelcome;
    expect(bob.participants.map((p) => p.participant_id)).toContain('helper-bot');
    expect([...bob.readPositions.keys()].sort()).toEqual(['alice', 'bob', 'carol']);
  });
});
