/**
 * The reference client's presence (client.online, the `presence` event) against the real server, with no
 * offline grace so going offline is one event away. The clients' timers run on a manual clock.
 */
import { createManualClock } from '../../actors/clock';
import type { ChatClient } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { testClients } from './test-clients';

let stack: RealStack;
const clients = testClients();

function client(userId: string): ChatClient {
  return clients.open(stack.wsUrl, { conversationId: 'conv', userId, clock: createManualClock() });
}

beforeEach(async () => {
  stack = await startRealStack({ config: { chat: { presence: { offline_grace_s: 0 } } } });
  await stack.createConversation('conv', ['alice', 'bob', 'carol']);
});

afterEach(async () => {
  clients.closeAll();
  await stack.close();
});

test('client.online and the presence event follow who is connected', async () => {
  const alice = client('alice');
  const events: Array<[string, boolean]> = [];
  alice.on('presence', (e) => events.push([e.participantId, e.online]));
  await alice.connect();
  expect(alice.online).toEqual(['alice']);

  const bobOnline = nextEvent(alice, 'presence', (e) => e.participantId === 'bob' && e.online);
  const bob = client('bob');
  await bob.connect();
  await bobOnline;
  // Bob's own client learns both from its participant list.
  expect([...bob.online].sort()).toEqual(['alice', 'bob']);
  expect([...alice.online].sort()).toEqual(['alice', 'bob']);

  const bobOffline = nextEvent(alice, 'presence', (e) => e.participantId === 'bob' && !e.online);
  bob.close();
  await bobOffline;
  expect(alice.online).toEqual(['alice']);
  // The first list announced alice herself once; nothing repeats an unchanged state.
  expect(events).toEqual([
    ['alice', true],
    ['bob', true],
    ['bob', false],
  ]);
});

test('a member who leaves drops out of client.online without a presence event', async () => {
  const alice = client('alice');
  await alice.connect();
  const carolOnline = nextEvent(alice, 'presence', (e) => e.participantId === 'carol');
  const carol = client('carol');
  await carol.connect();
  await carolOnline;
  const events: Array<[string, boolean]> = [];
  alice.on('presence', (e) => events.push([e.participantId, e.online]));
  const left = nextEvent(alice, 'participants', (e) => e.change?.action === 'leave');
  carol.leave();
  await left;
  expect(alice.online).toEqual(['alice']);
  expect(events).toEqual([]);
});
