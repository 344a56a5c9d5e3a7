import { ChatError } from './errors';

/** What AgentOutputs.next() gives when the job's signal aborted before the agent's next piece came. */
export const STOPPED: unique symbol = Symbol('stopped');

/**
 * One agent job's view of the agent's outputs. The job's deadline must hold whatever the agent does, and an
 * agent may ignore its signal: a `for await` would wait on a next() that never settles (and, leaving early, on
 * a return() that never settles), keeping the job and its slot for good. So every next() here settles by the
 * time the signal aborts (STOPPED), and close() asks the agent to stop without waiting for it.
 *
 * The source runs up to its first await at once (a generator does nothing until its first next()); that
 * step is read by the first next(). Costs one promise per piece besides the agent's own (the one the abort can
 * settle), and one listener per job.
 */
export class AgentOutputs<T> {
  private readonly iterator: AsyncIterator<T>;
  private first: Promise<IteratorResult<T>> | undefined;
  private resolveStep: ((step: IteratorResult<T> | typeof STOPPED) => void) | undefined;
  private rejectStep: ((err: unknown) => void) | undefined;
  /** The source ended by itself (done, or its next() threw): nothing to close. */
  private finished = false;
  private returnValue: unknown;

  /** Throws what the source throws when asked for its iterator or first step. */
  constructor(
    source: AsyncIterable<T>,
    private readonly signal: AbortSignal,
  ) {
    if (typeof (source as Partial<AsyncIterable<T>> | null | undefined)?.[Symbol.asyncIterator] !== 'function')
      throw new ChatError(
        'AGENT_ERR_FAILED',
        `respond() returned ${describeValue(source)}, not an async iterable (write it as an async generator, async *respond)`,
      );
    this.iterator = source[Symbol.asyncIterator]();
    this.first = Promise.resolve(this.iterator.next());
    // Read a tick later; until then a failure must not count as an unhandled rejection.
    this.first.catch(() => undefined);
    signal.addEventListener('abort', this.onAbort, { once: true });
  }

  /** What the agent returned, once a next() gave the done step (`for await` would drop it). */
  get returned(): unknown {
    return this.returnValue;
  }

  /** The agent's next step, or STOPPED once the signal aborted, whichever comes first. Rejects with what the agent throws. */
  next(): Promise<IteratorResult<T> | typeof STOPPED> {
    if (this.signal.aborted) return Promise.resolve(STOPPED);
    const step = this.first ?? Promise.resolve(this.iterator.next());
    this.first = undefined;
    return new Promise((resolve, reject) => {
      this.resolveStep = resolve;
      this.rejectStep = reject;
      step.then(this.onStep, this.onThrow);
    });
  }

  /**
   * Unless the source ended by itself, asks it to stop (its return(), as a `for await` left early does) without
   * waiting: a return() may never settle (a generator stuck in an await only returns after it). Its failure is
   * the agent's own affair once the job has ended; it is dropped.
   */
  close(): void {
    this.signal.removeEventListener('abort', this.onAbort);
    if (this.finished || typeof this.iterator.return !== 'function') return;
    this.finished = true;
    try {
      Promise.resolve(this.iterator.return()).catch(() => undefined);
    } catch {
      // A return() that throws at once: as above.
    }
  }

  private readonly onStep = (step: IteratorResult<T>): void => {
    if (step.done === true) {
      this.finished = true;
      this.returnValue = step.value;
    }
    this.resolveStep?.(step);
  };

  private readonly onThrow = (err: unknown): void => {
    this.finished = true;
    this.rejectStep?.(err);
  };

  private readonly onAbort = (): void => this.resolveStep?.(STOPPED);
}

/** What a value is, for a message to the agent's author: "a Promise", "an array", "undefined". */
function describeValue(value: unknown): string {
  if (value === null || value === undefined) return String(value);
  if (Array.isArray(value)) return 'an array';
  if (value instanceof Promise) return 'a Promise';
  return `a ${typeof value === 'object' ? (value.constructor?.name ?? 'object') : typeof value}`;
}
