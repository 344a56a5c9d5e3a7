/**
 * Regression (audit): the server holding a conversation is killed (kill -9) and another server of the same store
 * takes the conversation over once the dead one's claim expires (its TTL: 13.1 s as on PostgreSQL). A reference
 * client given both servers' urls kept going back to the dead one, once per backoff round (its first url as entry
 * point, and the owner the live one's 4421 named), instead of staying with the live server that answers: refusing
 * until the takeover, serving after it.
 *
 * Two real servers on one memory store with claims; the dead server's address is a TCP proxy that resets every
 * connection once killed, and counts them (the attempts at the dead server). The claims expire on the client's manual
 * clock, so moving that clock through the backoff waits is also what lets the takeover happen; the killed server's
 * runtime has its own manual clock, never moved, so it renews nothing (as a killed process).
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientEvents } from '../../client/chat-client';
import { MemoryStore } from '../../storage-providers';
import { nextEvent } from './client-events';
import { freeCrashedServer } from './outage-store';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import { testClients } from './test-clients';

const CLAIM_TTL_MS = 13_100;

let clock: ManualClock;
let store: MemoryStore;
let owner: RealStack;
let ownerClock: ManualClock;
let live: RealStack;
let ownerAddress: TcpProxy;
const clients = testClients();

beforeEach(async () => {
  clock = createManualClock();
  ownerClock = createManualClock();
  store = new MemoryStore({ claims: true, now: () => clock.now() });
  await store.open();
  let ownerPort = 0;
  ownerAddress = await startTcpProxy(() => ownerPort);
  const ownership = (id: string, address: string) => ({
    chat: { ownership: { instance_id: id, address, claim_ttl_s: CLAIM_TTL_MS / 1000 } },
  });
  owner = await startRealStack({ store, runtimeClock: ownerClock, config: ownership('owner', ownerAddress.url) });
  ownerPort = owner.port;
  live = await startRealStack({ store, config: ownership('live', 'ws://live.invalid') });
  // Created on the owner: its runtime claims the conversation, with its address, until the claim's TTL.
  await owner.createConversation('conv', ['alice', 'bob']);
});

afterEach(async () => {
  clients.closeAll();
  await ownerAddress.close();
  await live.close();
  await freeCrashedServer({ stack: owner, clock: ownerClock });
  await store.close();
});

type Plan = ChatClientEvents['reconnecting'];

/**
 * Moves the client's clock through each wait it plans, from now until it connects again; returns its plans and where
 * it connected. No sleeps: each step waits for the client's own `reconnecting` or `connected`. Listens from the call
 * on, so call it before what drops the connection (the first `reconnecting` follows its `disconnected` at once).
 */
async function reconnectUntilConnected(c: ChatClient): Promise<{ plans: Plan[]; url: string }> {
  const plans: Plan[] = [];
  let connected: ChatClientEvents['connected'] | undefined;
  let wake: () => void = () => undefined;
  const offPlan = c.on('reconnecting', (plan) => {
    plans.push(plan);
    wake();
  });
  const offConnected = c.on('connected', (info) => {
    connected = info;
    wake();
  });
  try {
    for (let done = 0; connected === undefined;) {
      if (done === plans.length) {
        await new Promise<void>((resolve) => (wake = resolve));
        continue;
      }
      clock.advance(plans[done]!.delayMs);
      done += 1;
    }
  } finally {
    offPlan();
    offConnected();
  }
  return { plans, url: connected!.url };
}

/** Alice's client of both servers, the killed one first; backoff capped at 2 s as in the audit. */
function alice(): ChatClient {
  return clients.open([ownerAddress.url, live.wsUrl], {
    conversationId: 'conv',
    userId: 'alice',
    clock,
    random: () => 0.5,
    backoff: { initialMs: 250, maxMs: 2000 },
    // The takeover takes the claim's TTL: more backoff waits than the default 10 at a 2 s cap.
    maxRetries: 100,
  });
}

/** Alice's text messages in the journal, as the live server has it after the takeover. */
async function aliceTexts(): Promise<string[]> {
  const history = await live.runtime.readMessages('conv', 0, 50, 'alice');
  return history.filter((m) => m.sender_id === 'alice' && m.message_type === 'text').map((m) => m.content);
}

/** What every attempt after the dead server's only one looks like: the live server, after a backoff wait. */
function afterTheDeadOne(plans: readonly Plan[]): Plan[] {
  return plans.slice(plans.findIndex((p) => p.url === ownerAddress.url) + 1);
}

test('the owner is killed: the client stays with the live server of its list until it takes the conversation over', async () => {
  const c = alice();
  expect(await c.connect()).toMatchObject({ url: ownerAddress.url });
  await c.send('before the kill');

  const killedAt = clock.now();
  const lost = nextEvent(c, 'disconnected');
  const reconnected = reconnectUntilConnected(c);
  ownerAddress.kill();
  expect(await lost).toMatchObject({ code: 1006, willReconnect: true });
  const { plans, url } = await reconnected;
  const toLiveMs = clock.now() - killedAt;

  // The live server took the conversation over once the claim expired, and serves it.
  expect(url).toBe(live.wsUrl);
  expect(toLiveMs).toBeGreaterThanOrEqual(CLAIM_TTL_MS);
  await c.send('after the takeover');
  expect(await aliceTexts()).toEqual(['before the kill', 'after the takeover']);

  // Before the fix: 33 attempts in 13.875 s, 16 at the dead server (the follow of the first 4421 naming it, then the
  // dead one as the next server of the list after each 4421). Now 18, one at the dead server: that follow.
  const atDead = plans.filter((p) => p.url === ownerAddress.url);
  expect(atDead).toHaveLength(1);
  expect(ownerAddress.refused).toBe(1);
  // The documented backoff still applies: each attempt at the live server after that one waited first.
  expect(afterTheDeadOne(plans).every((p) => p.url === live.wsUrl && p.delayMs > 0)).toBe(true);
  // And no longer than one capped wait past the takeover.
  expect(toLiveMs).toBeLessThan(CLAIM_TTL_MS + 2000);
});

test('a client that starts during the takeover, the dead server first in its list: refused once, then the live one', async () => {
  ownerAddress.kill();
  const c = alice();
  const reconnected = reconnectUntilConnected(c);
  void c.connect();
  const { plans, url } = await reconnected;

  expect(url).toBe(live.wsUrl);
  expect(clock.now()).toBeGreaterThanOrEqual(CLAIM_TTL_MS);
  // The refused first attempt sent it to the live server at once; the 4421s there named the dead one, which was
  // neither followed nor made current again. Before the fix: 33 attempts, 16 of them at the dead server (17 connections
  // refused there, the first included); now 17, none there.
  expect(plans[0]).toEqual({ attempt: 1, delayMs: 0, url: live.wsUrl });
  expect(plans.every((p) => p.url === live.wsUrl)).toBe(true);
  expect(plans.slice(1).every((p) => p.delayMs > 0)).toBe(true);
  expect(ownerAddress.refused).toBe(1);
  await c.send('after the takeover');
  expect(await aliceTexts()).toEqual(['after the takeover']);
});
