/**
 * Servers that say `connected` and then close at once (1011, as every server of a deployment whose shared store broke
 * would): such a connection is a failed attempt, not a healthy one, so the reference client backs off and gives up
 * after maxRetries as if it could not connect; only a connection that stayed open `healthyAfterMs` (default 10 s)
 * starts the count again. Scripted `ws` servers on loopback, a manual clock, backoff without jitter.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientOptions } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { connectedFrame, startScriptedServer, type ScriptedServer } from './scripted-ws-server';
import { testClients } from './test-clients';

type Plan = { attempt: number; delayMs: number; url: string };

let clock: ManualClock;
const clients = testClients();
let servers: ScriptedServer[];

beforeEach(() => {
  clock = createManualClock();
  servers = [];
});

afterEach(async () => {
  clients.closeAll();
  for (const server of servers.splice(0)) await server.close();
});

async function scripted(): Promise<ScriptedServer> {
  const server = await startScriptedServer();
  servers.push(server);
  return server;
}

function client(urls: readonly string[], extra: Partial<ChatClientOptions> = {}): ChatClient {
  return clients.open(urls, { conversationId: 'c1', userId: 'alice', clock, backoff: { jitter: 'none' }, ...extra });
}

/**
 * Lets `server`'s connection `n` connect, keeps it open `openMs` on the clock, closes it with `code`, and returns the
 * client's plan for the next attempt (undefined when it gave up instead).
 */
async function flap(c: ChatClient, server: ScriptedServer, n: number, openMs = 0, code = 1011): Promise<Plan | undefined> {
  const conn = await server.connection(n);
  const connected = nextEvent(c, 'connected');
  conn.send(connectedFrame(0));
  await connected;
  clock.advance(openMs);
  const next = Promise.race([nextEvent(c, 'reconnecting'), nextEvent(c, 'closed').then(() => undefined)]);
  await conn.close(code, 'GATEWAY_ERR_INTERNAL');
  const plan = await next;
  if (plan) clock.advance(plan.delayMs);
  return plan;
}

test('one server that connects and dies: 1 s, 2 s, 4 s, then the client gives up after maxRetries 3', async () => {
  const a = await scripted();
  const c = client([a.url], { maxRetries: 3 });
  const closed = nextEvent(c, 'closed');
  void c.connect();
  const plans: (Plan | undefined)[] = [];
  for (let n = 0; n < 4; n++) plans.push(await flap(c, a, n));
  expect(plans).toEqual([
    { attempt: 1, delayMs: 1000, url: a.url },
    { attempt: 2, delayMs: 2000, url: a.url },
    { attempt: 3, delayMs: 4000, url: a.url },
    undefined,
  ]);
  expect(await closed).toEqual({ code: 1011, reason: 'gave up after 3 failed attempts' });
  expect(a.connections).toHaveLength(4);
});

test('two servers that both connect and die: 0, 1 s, 0, 2 s, 0, then it gives up after maxRetries 2', async () => {
  const a = await scripted();
  const b = await scripted();
  const c = client([a.url, b.url], { maxRetries: 2 });
  const closed = nextEvent(c, 'closed');
  void c.connect();
  const plans: (Plan | undefined)[] = [];
  for (let n = 0; n < 3; n++) {
    plans.push(await flap(c, a, n));
    plans.push(await flap(c, b, n));
  }
  expect(plans).toEqual([
    { attempt: 1, delayMs: 0, url: b.url },
    { attempt: 2, delayMs: 1000, url: a.url },
    { attempt: 3, delayMs: 0, url: b.url },
    { attempt: 4, delayMs: 2000, url: a.url },
    { attempt: 5, delayMs: 0, url: b.url },
    undefined,
  ]);
  expect(await closed).toEqual({ code: 1011, reason: 'gave up after 5 failed attempts' });
});

test('a connection open for healthyAfterMs starts the count again; one closing a millisecond earlier does not', async () => {
  const a = await scripted();
  const c = client([a.url]);
  void c.connect();
  // A healthy server restarting once: the first backoff step, as without any flapping before it.
  expect(await flap(c, a, 0, 10_000)).toEqual({ attempt: 1, delayMs: 1000, url: a.url });
  expect(await flap(c, a, 1)).toEqual({ attempt: 2, delayMs: 2000, url: a.url });
  expect(await flap(c, a, 2, 9_999)).toEqual({ attempt: 3, delayMs: 4000, url: a.url });
  expect(await flap(c, a, 3, 10_000)).toEqual({ attempt: 1, delayMs: 1000, url: a.url });
});

test('with two servers, a healthy one that goes away sends the client to the other at once', async () => {
  const a = await scripted();
  const b = await scripted();
  const c = client([a.url, b.url], { healthyAfterMs: 500 });
  void c.connect();
  expect(await flap(c, a, 0, 500, 1012)).toEqual({ attempt: 1, delayMs: 0, url: b.url });
  expect(await flap(c, b, 0)).toEqual({ attempt: 2, delayMs: 1000, url: a.url });
  expect(await flap(c, a, 1, 500, 1001)).toEqual({ attempt: 1, delayMs: 0, url: b.url });
});

test('a server silent after `connected` until the heartbeat drops it proved nothing, however long that took', async () => {
  const a = await scripted();
  const c = client([a.url], { pingIntervalMs: 6000 });
  void c.connect();
  const dropped = async (n: number): Promise<Plan> => {
    const conn = await a.connection(n);
    const connected = nextEvent(c, 'connected');
    conn.send(connectedFrame(0));
    await connected;
    const next = nextEvent(c, 'reconnecting');
    // Two intervals without a frame: 12 s open, but the server's last sign of life was its `connected`.
    clock.advance(12_000);
    const plan = await next;
    clock.advance(plan.delayMs);
    return plan;
  };
  expect(await dropped(0)).toEqual({ attempt: 1, delayMs: 1000, url: a.url });
  expect(await dropped(1)).toEqual({ attempt: 2, delayMs: 2000, url: a.url });
});

test('healthyAfterMs must be a number >= 0', () => {
  expect(() => client(['ws://127.0.0.1:1'], { healthyAfterMs: -1 })).toThrow(RangeError);
  expect(() => client(['ws://127.0.0.1:1'], { healthyAfterMs: Number.NaN })).toThrow(RangeError);
});
