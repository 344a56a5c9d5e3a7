/**
 * The reference client's read positions against the real server: markRead, the `read` event and readPositions
 * from the welcome, and a mark made while disconnected said once connected.
 */
import { WebSocket } from 'ws';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, WebSocketConstructor } from '../../client/chat-client';
import { crashingTelemetry } from '../gateway/crashing-telemetry';
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

describe('read positions after the server lost its journal', () => {
  it('the roster takes the new server\'s lower positions: a restarted memory store does not keep old ones in "seen by"', async () => {
    const last = (await stack.runtime.getConversation('conv')).last_sequence_id;
    await stack.runtime.markRead('conv', 'bob', last);
    const alice = client('alice');
    const aliceReads: Array<[string, number]> = [];
    alice.on('read', (r) => aliceReads.push([r.participantId, r.sequenceId]));
    const resets: string[] = [];
    alice.on('error', (err) => resets.push(err.code));
    const welcome = nextEvent(alice, 'participants');
    alice.connect();
    await welcome;
    expect(alice.readPositions.get('bob')).toBe(last);

    // The server restarts on a new memory store, on the same port: the conversation begins again, shorter.
    const port = stack.port;
    const reconnecting = nextEvent(alice, 'reconnecting');
    await stack.close();
    await reconnecting;
    stack = await startRealStack({ config: { server: { port } } });
    await stack.createConversation('conv', ['alice', 'bob']);
    const end = (await stack.runtime.getConversation('conv')).last_sequence_id;
    const bobJoinedAt = (await stack.runtime.readState('conv', 'bob')).readUpTo;
    expect(end).toBeLessThan(last);
    const newWelcome = nextEvent(alice, 'participants');
    clock.advance(1000);
    await newWelcome;
    expect(resets).toEqual(['CLIENT_CURSOR_RESET']);
    // Bob has read nothing of the new conversation but what his join gives him: not `last`, which names a record to come.
    expect(Object.fromEntries(alice.readPositions)).toEqual({ alice: 1, bob: bobJoinedAt });
    expect(aliceReads).toEqual([
      ['alice', 1],
      ['bob', last],
      ['bob', bobJoinedAt],
    ]);

    // From there positions rise again as before.
    const record = await stack.runtime.post('conv', { sender_id: 'alice', message_id: 'after', content: 'new' });
    const raised = nextEvent(alice, 'read', (r) => r.participantId === 'bob');
    await stack.runtime.markRead('conv', 'bob', record.sequence_id);
    expect(await raised).toEqual({ participantId: 'bob', sequenceId: record.sequence_id });
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

describe('a read the server refuses with a wait', () => {
  it('is sent again by itself after retry_after_ms, once, with the latest mark made meanwhile', async () => {
    // A server whose conversation machine can be crashed; its restart's journal read is held, so the conversation
    // stays restarting (every `read` refused with CHAT_ERR_RESTARTING, retry_after_ms 100) until the test lets it go.
    await stack.close();
    const { telemetry, crashNext } = crashingTelemetry();
    stack = await startRealStack({ runtimeTelemetry: telemetry, config: { chat: { supervision: { max_restarts: 3 } } } });
    await stack.createConversation('conv', ['alice', 'bob']);
    const sentReads: number[] = [];
    class ReadRecordingWebSocket extends WebSocket {
      override send(data: string): void {
        const frame = JSON.parse(data) as { type: string; sequence_id?: number };
        if (frame.type === 'read') sentReads.push(frame.sequence_id!);
        super.send(data);
      }
    }
    const alice = client('alice');
    const bob = clients.open(stack.wsUrl, {
      conversationId: 'conv',
      userId: 'bob',
      clock,
      WebSocketImpl: ReadRecordingWebSocket as unknown as WebSocketConstructor,
    });
    for (const c of [alice, bob]) {
      const welcomed = nextEvent(c, 'participants');
      c.connect();
      await welcomed;
    }
    const first = (await stack.runtime.post('conv', { sender_id: 'alice', message_id: 'a1', content: 'one' })).sequence_id;

    const getConversation = stack.store.getConversation.bind(stack.store);
    let letGo!: () => void;
    const held = new Promise<void>((resolve) => (letGo = resolve));
    const restarting = new Promise<void>((resolve) => {
      const spy = jest.spyOn(stack.store, 'getConversation').mockImplementationOnce(async (id) => {
        spy.mockRestore();
        resolve();
        await held;
        return getConversation(id);
      });
    });
    crashNext();
    const crashed = nextEvent(bob, 'message', (m) => m.message_id === 'a2');
    void stack.runtime.post('conv', { sender_id: 'alice', message_id: 'a2', content: 'two' }).catch(() => undefined);
    const second = (await crashed).sequence_id;
    await restarting;

    // The refusal is the client's own business (it retries), so a `throttled` event, not an `error`.
    const errors: string[] = [];
    bob.on('error', (err) => errors.push(err.code));
    const refused = nextEvent(bob, 'throttled');
    bob.markRead(first);
    expect(await refused).toMatchObject({ code: 'CHAT_ERR_RESTARTING', retryAfterMs: 100 });
    // Marked during the wait: not sent now (it would be refused too), but carried by the one re-send.
    bob.markRead(second);
    expect(sentReads).toEqual([first]);
    const refusedAgain = nextEvent(bob, 'throttled');
    clock.advance(99);
    expect(sentReads).toEqual([first]);
    clock.advance(1);
    expect(sentReads).toEqual([first, second]);
    // Still restarting: refused again, and again sent after the wait, until the conversation runs.
    expect(await refusedAgain).toMatchObject({ code: 'CHAT_ERR_RESTARTING', retryAfterMs: 100 });

    letGo();
    const heard = nextEvent(alice, 'read', (r) => r.participantId === 'bob' && r.sequenceId === second);
    for (let taken = false; !taken;) {
      const refusedOnce = nextEvent(bob, 'throttled').then(() => false);
      clock.advance(100);
      taken = await Promise.race([heard.then(() => true), refusedOnce]);
    }
    expect(new Set(sentReads.slice(1))).toEqual(new Set([second]));
    expect(errors).toEqual([]);
    expect(await stack.runtime.readState('conv', 'bob')).toEqual({ readUpTo: second, unreadCount: 0 });
  });
});
