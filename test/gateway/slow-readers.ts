import type { Socket } from 'node:net';
import type WebSocket from 'ws';
import { createManualClock, type ManualClock } from '../../actors/clock';
import { createNoopLogger, type GatewayLogger } from '../../gateway';
import type { Harness } from './harness';

/**
 * Readers that stop or slow down, for the slow-consumer and replay-pacing tests: the client's socket paused (a slow
 * link), the gateway's warnings, and a manual gateway clock that tells when the replay's stall timer waits.
 */

/** 1 KB a record: 8,000 of them are several times what the loopback socket buffers hold for a reader that waits. */
export const RECORD_CONTENT = 'x'.repeat(1000);

/** The TCP socket under a ws client: pause() it and the client reads nothing more. */
export function rawSocket(ws: WebSocket): Socket {
  return (ws as unknown as { _socket: Socket })._socket;
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

/** The server's side of the next upgrade (call before the client connects). */
export function nextServerSocket(h: Harness): Promise<Socket> {
  return new Promise((resolve) => h.server.server.once('upgrade', (_req, socket: Socket) => resolve(socket)));
}
