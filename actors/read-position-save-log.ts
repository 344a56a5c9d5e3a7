import type { Clock } from './clock';
import { createLogThrottle, type LogThrottle } from '../observability/log-throttle';
import type { RuntimeLogger } from '../observability/logger';

/** One failure line a minute per conversation, the next counting those left out (the window of agent call failures). */
export const SAVE_FAILURE_LOG_INTERVAL_MS = 60_000;

export interface ReadPositionSaveLogOptions {
  readonly logger: RuntimeLogger;
  readonly clock: Clock;
  readonly conversationId: string;
}

/**
 * The log of one conversation's read-position saves (read-positions.ts). A store that keeps refusing them is tried
 * again every save interval (2 s): a line per failure was 30 a minute per conversation. So the first failure is
 * written at once, then at most one a minute with `suppressed` (the failures left out since the previous line), and
 * one line when a save goes through again. The last save, as the conversation stops, is always written: what it
 * held is lost.
 */
export class ReadPositionSaveLog {
  /** Made at the first failure (most conversations never have one), dropped when saves work again. */
  private throttle: LogThrottle | undefined;
  /** Failures since the last line written. */
  private leftOut = 0;
  /** Failures since saves last worked. */
  private failures = 0;

  constructor(private readonly options: ReadPositionSaveLogOptions) {}

  /** A save failed; `retrying`: false for the last one, at the conversation's stop. */
  failed(err: unknown, retrying: boolean): void {
    const { logger, clock, conversationId } = this.options;
    this.failures++;
    if (!retrying) {
      logger.warn(
        { err, conversation_id: conversationId, suppressed: this.leftOut },
        'saving read positions failed as the conversation stopped: the raises since the last save are lost (shown unread again)',
      );
      this.leftOut = 0;
      return;
    }
    this.throttle ??= createLogThrottle({ now: () => clock.now(), intervalMs: SAVE_FAILURE_LOG_INTERVAL_MS, maxKeys: 1 });
    if (this.throttle.admit('save') === undefined) {
      this.leftOut++;
      return;
    }
    logger.warn({ err, conversation_id: conversationId, suppressed: this.leftOut }, 'saving read positions failed; retrying');
    this.leftOut = 0;
  }

  /** A save went through: after failures, one line says so (at warn, seen wherever the failures were). */
  saved(): void {
    if (this.failures === 0) return;
    this.options.logger.warn(
      { conversation_id: this.options.conversationId, failures: this.failures, suppressed: this.leftOut },
      'saving read positions works again',
    );
    this.failures = 0;
    this.leftOut = 0;
    this.throttle = undefined;
  }
}
