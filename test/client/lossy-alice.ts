/**
 * The set-up of the client tests that cut alice's connection: a real server with conversation `conv` (alice, bob), a
 * TCP proxy in front of it that can cut every connection, a lossy WebSocket that can lose chosen frames, and a manual
 * clock for the client's timers (the reconnect's backoff is moved by hand).
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ChatClient, ChatClientError, ChatClientOptions } from '../../client/client-types';
import { lossyNetwork, type LossyNetwork } from './lossy-websocket';
import { startRealStack, startTcpProxy, type RealStack, type TcpProxy } from './real-server';
import type { TestClients } from './test-clients';

export interface LossyStack {
  readonly stack: RealStack;
  readonly proxy: TcpProxy;
  readonly clock: ManualClock;
  readonly network: LossyNetwork;
}

export async function startLossyStack(): Promise<LossyStack> {
  const clock = createManualClock();
  const network = lossyNetwork();
  const stack = await startRealStack();
  const proxy = await startTcpProxy(stack.port);
  await stack.createConversation('conv', ['alice', 'bob']);
  return { stack, proxy, clock, network };
}

export async function stopLossyStack(clients: TestClients, s: LossyStack): Promise<void> {
  clients.closeAll();
  await s.proxy.close();
  await s.stack.close();
}

/** alice through the proxy and the lossy network: ids a-1, a-2, ...; a 1 s backoff on the manual clock. */
export function lossyAlice(
  clients: TestClients,
  s: LossyStack,
  options: Partial<ChatClientOptions> = {},
): { client: ChatClient; errors: ChatClientError[] } {
  let n = 0;
  const client = clients.open(s.proxy.url, {
    conversationId: 'conv',
    userId: 'alice',
    clock: s.clock,
    WebSocketImpl: s.network.WebSocketImpl,
    generateId: () => `a-${++n}`,
    backoff: { initialMs: 1000, maxMs: 1000, jitter: 'none' },
    ...options,
  });
  const errors: ChatClientError[] = [];
  client.on('error', (e) => errors.push(e));
  return { client, errors };
}
