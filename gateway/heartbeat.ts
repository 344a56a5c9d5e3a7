import type { Clock } from '../actors/clock';

/** A connection the heartbeat visits: it pings itself, or closes itself when silent for longer than deadMs. */
export interface HeartbeatTarget {
  heartbeat(now: number, deadMs: number): void;
}

/** A running heartbeat; stop() clears its timer (nothing keeps the process alive after close). */
export interface Heartbeat {
  stop(): void;
}

/** Heartbeat settings of one gateway (server.websocket.heartbeat_interval_s / heartbeat_dead_s). */
export interface HeartbeatOptions {
  readonly clock: Clock;
  readonly intervalMs: number;
  readonly deadMs: number;
  /** The live set of connections, read afresh at every tick. */
  readonly connections: Iterable<HeartbeatTarget>;
  /** Gateway-wide housekeeping that shares the tick (e.g. sweeping refilled rate-limit buckets). */
  afterTick?(): void;
}

/**
 * The ws README heartbeat with one timer for all sockets instead of one per socket: each tick pings the
 * live ones and closes the silent ones. The timer comes from the injected clock, so tests drive it.
 */
export function startHeartbeat(options: HeartbeatOptions): Heartbeat {
  const { clock, intervalMs, deadMs } = options;
  let stopped = false;
  let timer: unknown = clock.setTimeout(tick, intervalMs);
  function tick(): void {
    timer = undefined;
    const now = clock.now();
    for (const c of options.connections) c.heartbeat(now, deadMs);
    options.afterTick?.();
    if (!stopped) timer = clock.setTimeout(tick, intervalMs);
  }
  return {
    stop() {
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      timer = undefined;
    },
  };
}
