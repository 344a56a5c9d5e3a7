import http from 'node:http';
import type { ConfigInput } from '../../config/config-types';
import { MemoryStore } from '../../storage-providers';
import { startTcpProxy, type TcpProxy } from '../client/real-server';
import { startHarness, type Harness, type HarnessOptions } from './harness';

/** Two servers on one store with `chat.ownership.forward` on: `holder` publishes `address`, `other` forwards to it. */
export interface OwnerPair {
  readonly holder: Harness;
  readonly other: Harness;
  /** The holder's published address: a TCP proxy to its port (it listens on port 0, so the address comes first). */
  readonly proxy: TcpProxy;
}

/**
 * Starts the pair; each server gets `overrides` and its own `options` (both may share one clock). Close the proxy
 * after the harnesses (closeAll).
 */
export async function startOwnerPair(
  overrides: ConfigInput,
  options: { readonly holder?: HarnessOptions; readonly other?: HarnessOptions } = {},
): Promise<OwnerPair> {
  const store = new MemoryStore({ claims: true });
  let holderPort = 0;
  const proxy = await startTcpProxy(() => holderPort);
  const withOwnership = (id: string, address: string): ConfigInput => ({
    ...overrides,
    chat: { ...overrides.chat, ownership: { instance_id: id, address, forward: true } },
  });
  const holder = await startHarness(withOwnership('holder', proxy.url), { ...options.holder, store });
  holderPort = Number(new URL(holder.url).port);
  const other = await startHarness(withOwnership('other', 'ws://other.invalid'), { ...options.other, store });
  return { holder, other, proxy };
}

/**
 * Two servers on one store with `chat.ownership.forward` on, the holder publishing `holderAddress` as it is: a closed
 * port makes a holder that cannot be reached.
 */
export async function startPairPublishing(
  holderAddress: string,
  overrides: ConfigInput = {},
  options: { readonly holder?: HarnessOptions; readonly other?: HarnessOptions } = {},
): Promise<{ readonly holder: Harness; readonly other: Harness }> {
  const store = new MemoryStore({ claims: true });
  const withOwnership = (id: string, address: string): ConfigInput => ({
    ...overrides,
    chat: { ...overrides.chat, ownership: { instance_id: id, address, forward: true } },
  });
  const holder = await startHarness(withOwnership('holder', holderAddress), { ...options.holder, store });
  const other = await startHarness(withOwnership('other', 'ws://other.invalid'), { ...options.other, store });
  return { holder, other };
}

/**
 * One GET with `userId`'s token, sent once, resolving with its status: fetch (undici) repeats a request answered 421
 * on a new connection, as the Fetch standard says, so each of its requests would reach a server twice.
 */
export function getOnce(server: Harness, path: string, userId: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = http.get(`${server.url}${path}`, { headers: { authorization: `Bearer ${server.token(userId)}` }, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode ?? 0));
    });
    req.once('error', reject);
  });
}
