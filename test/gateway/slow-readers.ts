import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { createManualClock, type ManualClock } from '../../actors/clock';
import type { ConfigInput } from '../../config/config-types';
import { createNoopLogger, type GatewayLogger } from '../../gateway';
import { track, type Harness } from './harness';
import { TestClient } from './ws-test-client';

/**
 * Readers that stop or slow down, for the slow-consumer and replay-pacing tests: the client's socket paused (a slow
 * link), the gateway's warnings, and a manual gateway clock that tells when the replay's stall timer waits.
 */

/** 1 KB a record: 8,000 of them are several times what the loopback socket buffers hold for a reader that waits. */
export const RECORD_CONTENT = 'x'.repeat(1000);

/** For histories of thousands of records posted at once: the memory journal keeps them all, no queue or budget refuses one. */
export const BULK_HISTORY_LIMITS: ConfigInput = {
  chat: {
    storage: { memory: { max_records_per_conversation: 0 } },
    limits: { queue_size: 100_000, rate_limit_burst: 100_000, rate_limit_per_second: 100_000 },
  },
};

/** The TCP socket under a ws client: pause() it and the client reads nothing more. */
export function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
}

/** A link slower than the server: one read of the socket, then 10 ms before the next (the link's pace, not a wait). */
export function readSlowly(ws: WebSocket): void {
  const socket = rawSocket(ws);
  socket.on('data', () => {
    socket.pause();
    setTimeout(() => socket.resume(), 10);
  });
}

/** The gateway's warnings, each with its fields, and the first one as a promise. */
export function warnings(): {
  logger: GatewayLogger;
  lines: Array<{ obj: Record<string, unknown>; msg: string }>;
  next: Promise<Record<string, unknown>>;
} {
  const lines: Array<{ obj: Record<string, unknown>; msg: string }> = [];
  let first!: (obj: Record<string, unknown>) => void;
  const next = new Promise<Record<string, unknown>>((resolve) => {
    first = resolve;
  });
  const noop = createNoopLogger();
  const logger: GatewayLogger = {
    ...noop,
    warn: (obj, msg) => {
      lines.push({ obj: obj as Record<string, unknown>, msg: msg ?? '' });
      first(obj as Record<string, unknown>);
    },
    child: () => logger,
  };
  return { logger, lines, next };
}

export type Warnings = ReturnType<typeof warnings>;

/** A manual clock that tells about its timers of `ms` (the replay's stall timer). */
export interface StallWatch {
  readonly clock: ManualClock;
  /** Resolves when the next such timer is set. */
  armed(): Promise<void>;
  /** Whether one is set and has neither fired nor been cleared. */
  pending(): boolean;
}

export function stallWatch(ms: number): StallWatch {
  const clock = createManualClock(Date.now());
  const live = new Set<unknown>();
  let onArm: (() => void) | undefined;
  const setTimer = clock.setTimeout.bind(clock);
  const clearTimer = clock.clearTimeout.bind(clock);
  clock.setTimeout = (fn, delay) => {
    if (delay !== ms) return setTimer(fn, delay);
    const handle = setTimer(() => {
      live.delete(handle);
      fn();
    }, delay);
    live.add(handle);
    onArm?.();
    return handle;
  };
  clock.clearTimeout = (handle) => {
    live.delete(handle);
    clearTimer(handle);
  };
  const armed = (): Promise<void> =>
    new Promise((resolve) => {
      onArm = resolve;
    });
  return { clock, armed, pending: () => live.size > 0 };
}

/**
 * Waits until the replay waits for its reader: a stall timer set and still pending once the turn's ticks ran (a
 * socket that took the step drains in a tick). Fails at once if the gateway warned first (it cut the replay).
 */
export async function replayWaiting(watch: StallWatch, warned: Warnings): Promise<void> {
  for (;;) {
    const first = await Promise.race([watch.armed().then(() => 'armed'), warned.next.then((w) => `warned ${JSON.stringify(w)}`)]);
    expect(first).toBe('armed');
    if (watch.pending()) return;
  }
}

/** Posts `count` records of RECORD_CONTENT from alice through the runtime (fast: no sockets). */
export async function fillHistory(h: Harness, conv: string, count: number): Promise<void> {
  for (let i = 0; i < count; i += 500) {
    const batch = Array.from({ length: Math.min(500, count - i) }, (_, j) =>
      h.runtime.post(conv, { sender_id: 'alice', message_id: `h${i + j}`, content: RECORD_CONTENT }),
    );
    await Promise.all(batch);
  }
}

/** Opens bob's socket resuming from 0; `onOpen` runs as soon as the handshake is read (before any frame is). */
export function resumeFromStart(h: Harness, conv: string, onOpen: (ws: WebSocket) => void): TestClient {
  const client = track(new TestClient(h.wsUrl(conv, 'bob', { last_sequence_id: '0' })));
  client.ws.once('open', () => onOpen(client.ws));
  return client;
}

/** Counts the times `text` occurs in what the server writes to `socket` from now on (socket.write wrapped). */
export function writtenCount(socket: Socket, text: string): () => number {
  let count = 0;
  const write = socket.write.bind(socket) as (...args: unknown[]) => boolean;
  (socket as unknown as { write: (...args: unknown[]) => boolean }).write = (chunk: unknown, ...rest: unknown[]) => {
    if (Buffer.isBuffer(chunk)) for (let at = chunk.indexOf(text); at >= 0; at = chunk.indexOf(text, at + 1)) count++;
    return write(chunk, ...rest);
  };
  return () => count;
}

/** The server's side of the next upgrade (call before the client connects). */
export function nextServerSocket(h: Harness): Promise<Socket> {
  return new Promise((resolve) => h.server.server.once('upgrade', (_req, socket: Socket) => resolve(socket)));
}
