/**
 * Defaults that depend on where the client runs (browser or Node). Everything here feature-detects
 * instead of importing Node modules, so the file loads unchanged in a browser bundle.
 */
import { ChatClientError, type ClientClock, type WebSocketConstructor } from './client-types';

/** The real clock: Date.now and the global timers. */
export function defaultClock(): ClientClock {
  return {
    now: () => Date.now(),
    setTimeout: (fn, ms) => setTimeout(fn, ms),
    clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
  };
}

/** Background timers (ack, ping) must not keep a Node process alive; browsers have no unref. */
export function unrefTimer(handle: unknown): unknown {
  const h = handle as { unref?: () => void } | null;
  if (h && typeof h === 'object' && typeof h.unref === 'function') h.unref();
  return handle;
}

/** A random v4 UUID for message ids. */
export function defaultGenerateId(): string {
  const c = (globalThis as { crypto?: Crypto }).crypto;
  if (c && typeof c.randomUUID === 'function') return c.randomUUID();
  // randomUUID only exists in secure contexts; getRandomValues exists everywhere.
  const b = new Uint8Array(16);
  if (c && typeof c.getRandomValues === 'function') c.getRandomValues(b);
  else for (let i = 0; i < 16; i++) b[i] = Math.floor(Math.random() * 256);
  b[6] = (b[6]! & 0x0f) | 0x40;
  b[8] = (b[8]! & 0x3f) | 0x80;
  const h = Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

/** globalThis.WebSocket in browsers, the `ws` package in Node; throws CLIENT_NO_WEBSOCKET otherwise. */
export function defaultWebSocketImpl(): WebSocketConstructor {
  const g = globalThis as { WebSocket?: unknown; process?: { versions?: { node?: string } } };
  const isNode = typeof g.process?.versions?.node === 'string';
  if (!isNode && typeof g.WebSocket === 'function') return g.WebSocket as WebSocketConstructor;
  // Node: load `ws` only now, so a browser build never references it at load time.
  if (typeof require === 'function') {
    return require('ws') as WebSocketConstructor;
  }
  if (typeof g.WebSocket === 'function') return g.WebSocket as WebSocketConstructor;
  throw new ChatClientError('CLIENT_NO_WEBSOCKET', 'no WebSocket implementation: pass WebSocketImpl');
}
