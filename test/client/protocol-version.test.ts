/**
 * The reference client exposes the protocol version the server's `connected` frame says the socket speaks
 * (docs/protocol.md "Protocol versions"): on the `connected` event / connect()'s ConnectedInfo, and 1 for a server
 * older than the field (which spoke 1 without saying so). The real server on port 0, and a scripted one for the
 * older and a later server.
 */
import { createManualClock } from '../../actors/clock';
import { SUPPORTED_PROTOCOL_VERSIONS } from '../../gateway/protocol-version';
import { nextEvent } from './client-events';
import { startRealStack, type RealStack } from './real-server';
import { connectedFrame, startScriptedServer, type ScriptedServer } from './scripted-ws-server';
import { testClients } from './test-clients';

const clients = testClients();
let stack: RealStack | undefined;
let scripted: ScriptedServer | undefined;

afterEach(async () => {
  clients.closeAll();
  await stack?.close();
  await scripted?.close();
  stack = undefined;
  scripted = undefined;
});

test('against the real server: connect() and the connected event carry the socket’s protocol_version (1)', async () => {
  stack = await startRealStack();
  await stack.createConversation('conv', ['alice']);
  const alice = clients.open(stack.wsUrl, { conversationId: 'conv', userId: 'alice', clock: createManualClock() });
  const event = nextEvent(alice, 'connected');
  const info = await alice.connect();
  expect(info.protocolVersion).toBe(1);
  expect(SUPPORTED_PROTOCOL_VERSIONS).toContain(info.protocolVersion);
  expect((await event).protocolVersion).toBe(1);
});

test.each([
  ['a server older than the field: 1', undefined, 1],
  ['a server that says 2: 2', 2, 2],
])('%s', async (_name, sent, expected) => {
  scripted = await startScriptedServer();
  const client = clients.open(scripted.url, { conversationId: 'c1', userId: 'alice', clock: createManualClock() });
  const connected = client.connect();
  const conn = await scripted.connection(0);
  conn.send({ ...connectedFrame(0), ...(sent === undefined ? {} : { protocol_version: sent }) });
  expect((await connected).protocolVersion).toBe(expected);
});
