/**
 * Application-level keepalive. A half-open TCP connection (laptop sleep, NAT timeout) can look
 * open for minutes; pinging every `intervalMs` and dropping the connection when nothing at all
 * arrived for two intervals lets the reconnect loop resume within a bounded time.
 */
import type { ClientClock } from './client-types';
import { unrefTimer } from './client-platform';

/** What the heartbeat needs from the client around it. */
export interface HeartbeatDeps {
  readonly clock: ClientClock;
  /** 0 or less = off. */
  readonly intervalMs: number;
  /** True while the connection is usable; a tick on a dead one stops the heartbeat. */
  isReady(): boolean;
  /** Sends a `ping` frame. */
  sendPing(): void;
  /** Nothing arrived within two intervals: drop the connection. */
  onSilence(): void;
}

/** The heartbeat of one client. */
export interface Heartbeat {
  /** (Re)starts pinging; the silence window starts now. */
  start(): void;
  /** Any frame from the server proves the connection alive. */
  noteFrame(): void;
  stop(): void;
}

/** Creates a stopped heartbeat. */
export function createHeartbeat(deps: HeartbeatDeps): Heartbeat {
  const { clock, intervalMs } = deps;
  let timer: unknown;
  let lastFrameAt = 0;

  function stop(): void {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
  }

  return {
    start() {
      if (intervalMs <= 0) return;
      stop();
      lastFrameAt = clock.now();
      const tick = (): void => {
        timer = undefined;
        if (!deps.isReady()) return;
        if (clock.now() - lastFrameAt >= 2 * intervalMs) {
          deps.onSilence();
          return;
        }
        deps.sendPing();
        timer = unrefTimer(clock.setTimeout(tick, intervalMs));
      };
      timer = unrefTimer(clock.setTimeout(tick, intervalMs));
    },
    noteFrame() {
      lastFrameAt = clock.now();
    },
    stop,
  };
}
