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
