/**
 * Reference clients as the client tests build them, kept until the test's afterEach closes them. Used against the
 * real stack (real-server.ts), its proxies, the gateway harness and scripted servers alike: only the url differs.
 */
import { WebSocket } from 'ws';
import { createChatClient, type ChatClient, type ChatClientOptions, type WebSocketConstructor } from '../../client/chat-client';

/**
 * The settings every client test shares, under the test's own options: ws's WebSocket on loopback, no heartbeat
 * pings (they would need the clock moved for nothing) and random 0, so backoff has no jitter. A test that wants
 * jitter passes `random: Math.random` (the client's default); the clock is the test's to give (the client's default,
 * the system clock, when it gives none).
 */
export function testClientOptions(url: ChatClientOptions['url'], options: Omit<ChatClientOptions, 'url'>): ChatClientOptions {
  return {
    url,
    WebSocketImpl: WebSocket as unknown as WebSocketConstructor,
    random: () => 0,
    pingIntervalMs: 0,
    ...options,
  };
}

export interface TestClients {
  /** A client of `url` (a stack's wsUrl, a proxy's url..., or a list of them) with testClientOptions, kept for closeAll. */
  open(url: ChatClientOptions['url'], options: Omit<ChatClientOptions, 'url'>): ChatClient;
  /** Closes every client opened since the last closeAll: the test's afterEach, before its servers close. */
  closeAll(): void;
}

export function testClients(): TestClients {
  const open: ChatClient[] = [];
  return {
    open(url, options) {
      const client = createChatClient(testClientOptions(url, options));
      open.push(client);
      return client;
    },
    closeAll() {
      for (const client of open.splice(0)) client.close();
    },
  };
}
