/**
 * What the reference client tells the application when it ends (the server's error code and the close code, not
 * only CLIENT_CLOSED), a fresh token for every connection attempt, and the `sync` event of a resume that missed
 * nothing. A real `ws` server on loopback scripted by each test; time is a manual clock.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import { ChatClientError, type ChatClient, type ChatClientOptions } from '../../client/chat-client';
import { nextEvent } from './client-events';
import { connectedFrame, messageFrame, startScriptedServer, type ScriptedServer } from './scripted-ws-server';
import { testClients } from './test-clients';

let server: ScriptedServer;
let clock: ManualClock;
const clients = testClients();

beforeEach(async () => {
  server = await startScriptedServer();
  clock = createManualClock();
});

afterEach(async () => {
  clients.closeAll();
  await server.close();
});

function makeClient(extra: Partial<ChatClientOptions> = {}): ChatClient {
  return clients.open(server.url, { conversationId: 'c1', userId: 'alice', clock, ...extra });
}

describe('the error a client ends with', () => {
  test('a fatal refusal: the server error code from the close reason, the close code as closeCode (and status)', async () => {
    const client = makeClient();
    const connecting = client.connect().catch((err: unknown) => err);
    const sending = client.send('hello?').catch((err: unknown) => err);
    await (await server.connection(0)).close(4003, 'CHAT_ERR_NOT_PARTICIPANT');
    const err = (await connecting) as ChatClientError;
    expect(err).toBeInstanceOf(ChatClientError);
    expect(err).toMatchObject({ code: 'CHAT_ERR_NOT_PARTICIPANT', closeCode: 4003, status: 4003 });
    expect(err.message).toBe('client closed: fatal close 4003: CHAT_ERR_NOT_PARTICIPANT');
    // Whatever waited fails the same way.
    expect(await sending).toBe(err);
  });

  test('a retriable close the client gives up on (maxRetries): CLIENT_CLOSED with the last close code', async () => {
    const client = makeClient({ followOwner: false, maxRetries: 0 });
    const connecting = client.connect().catch((err: unknown) => err);
    await (await server.connection(0)).close(4421, 'CHAT_ERR_OWNED_ELSEWHERE ws://10.0.0.2:8000');
    // Retriable, but maxRetries 0: the client gives up. It was not refused for good, so the client's own code stays.
    expect(await connecting).toMatchObject({ code: 'CLIENT_CLOSED', closeCode: 4421 });
  });

  test('close() by the application and a close without a coded reason: CLIENT_CLOSED, with closeCode only when there was one', async () => {
    const closedByApp = makeClient();
    const pending = closedByApp.connect().catch((err: unknown) => err);
    await server.connection(0);
    closedByApp.close();
    const byApp = (await pending) as ChatClientError;
    expect(byApp.code).toBe('CLIENT_CLOSED');
    expect(byApp.closeCode).toBeUndefined();

    const uncoded = makeClient();
    const refused = uncoded.connect().catch((err: unknown) => err);
    await (await server.connection(1)).close(1008, 'not a code');
    expect(await refused).toMatchObject({ code: 'CLIENT_CLOSED', closeCode: 1008, status: 1008 });
  });
});

describe('token as a function', () => {
  test('called before every attempt: an expired token is replaced on reconnect (async too)', async () => {
    const tokens = ['expired-soon', 'fresh'];
    let calls = 0;
    const client = makeClient({ userId: undefined, token: async () => tokens[calls++] ?? 'later' });
    const connected = client.connect();
    const first = await server.connection(0);
    expect(first.url.searchParams.get('token')).toBe('expired-soon');
    first.send(connectedFrame(0));
    await connected;
    // The server drops the socket (say its token expired mid-connection): the next attempt asks for a new one.
    const reconnecting = nextEvent(client, 'reconnecting');
    await first.close(1001, 'GATEWAY_ERR_SHUTTING_DOWN');
    const { delayMs } = await reconnecting;
    expect(calls).toBe(1);
    clock.advance(delayMs);
    const second = await server.connection(1);
    expect(second.url.searchParams.get('token')).toBe('fresh');
    expect(calls).toBe(2);
    const again = nextEvent(client, 'connected');
    second.send(connectedFrame(0));
    expect((await again).reconnect).toBe(true);
  });

  test('a plain function works the same; one that throws fails that attempt (CLIENT_CONNECT_FAILED) and the next retries', async () => {
    let calls = 0;
    const client = makeClient({
      userId: undefined,
      token: () => {
        calls += 1;
        if (calls === 1) throw new Error('identity provider down');
        return `t${calls}`;
      },
    });
    const errors: ChatClientError[] = [];
    client.on('error', (e) => errors.push(e));
    const reconnecting = nextEvent(client, 'reconnecting');
    const connected = client.connect();
    const { attempt, delayMs } = await reconnecting;
    expect(attempt).toBe(1);
    expect(errors.map((e) => [e.code, e.message])).toEqual([['CLIENT_CONNECT_FAILED', 'token() failed: identity provider down']]);
    expect(server.connections).toHaveLength(0);
    clock.advance(delayMs);
    const conn = await server.connection(0);
    expect(conn.url.searchParams.get('token')).toBe('t2');
    conn.send(connectedFrame(0));
    await connected;
  });

  test('a token that never comes: the connect timeout fails the attempt, and a late one opens nothing', async () => {
    const pending: ((token: string) => void)[] = [];
    const client = makeClient({
      userId: undefined,
      connectTimeoutMs: 1000,
      token: () => new Promise<string>((resolve) => pending.push(resolve)),
    });
    const reconnecting = nextEvent(client, 'reconnecting');
    void client.connect().catch(() => undefined);
    clock.advance(999);
    expect(client.state).toBe('connecting');
    clock.advance(1);
    const { attempt, delayMs } = await reconnecting;
    expect(attempt).toBe(1);
    pending[0]!('too-late');
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.connections).toHaveLength(0);
    clock.advance(delayMs);
    expect(pending).toHaveLength(2);
    pending[1]!('in-time');
    const conn = await server.connection(0);
    expect(conn.url.searchParams.get('token')).toBe('in-time');
    expect(server.connections).toHaveLength(1);
  });

  test('close() while the token is on its way: no socket is opened afterwards', async () => {
    let release!: (token: string) => void;
    const client = makeClient({ userId: undefined, token: () => new Promise<string>((resolve) => (release = resolve)) });
    const connecting = client.connect().catch((err: unknown) => err);
    client.close();
    release('late');
    expect(await connecting).toMatchObject({ code: 'CLIENT_CLOSED' });
    await new Promise((resolve) => setImmediate(resolve));
    expect(server.connections).toHaveLength(0);
  });
});

describe('sync of a resume that missed nothing', () => {
  test('is still emitted (a sync() caller waits for it) with to = from - 1: an empty range', async () => {
    const client = makeClient();
    const connected = client.connect();
    const first = await server.connection(0);
    first.send(connectedFrame(0));
    await connected;
    for (const seq of [1, 2, 3, 4]) first.send(messageFrame(seq));
    await nextEvent(client, 'message', (m) => m.sequence_id === 4);
    const reconnecting = nextEvent(client, 'reconnecting');
    await first.close(1001, 'GATEWAY_ERR_SHUTTING_DOWN');
    clock.advance((await reconnecting).delayMs);
    const second = await server.connection(1);
    expect(second.url.searchParams.get('last_sequence_id')).toBe('4');
    const sync = nextEvent(client, 'sync');
    second.send(connectedFrame(4));
    // What the gateway sends when nothing came after the resume point.
    second.send({ type: 'sync_complete', from: 5, to: 4, recovered: true });
    expect(await sync).toEqual({ from: 5, to: 4, recovered: true });
  });
});
