import type { Clock } from './clock';

/**
 * Erlang-style restart intensity: at most `maxRestarts` restarts within `windowMs`.
 * One more means the failure is not transient and the conversation is marked failed.
 */
export class RestartIntensity {
  private readonly restarts: number[] = [];

  constructor(
    private readonly clock: Clock,
    private readonly maxRestarts: number,
    private readonly windowMs: number,
  ) {}

  /** Records a crash; true when a restart is still allowed. */
  allowRestart(): boolean {
    const now = this.clock.now();
    while (this.restarts.length > 0 && now - this.restarts[0] > this.windowMs) this.restarts.shift();
    if (this.restarts.length >= this.maxRestarts) return false;
    this.restarts.push(now);
    return true;
  }
}
