import { MAX_REPLAY_HISTORY } from './protocol-frames';

/**
 * The `lastSequenceId` and `history` options, checked when the client is made: the server refuses a value out of range
 * (400 / close 1008), and the client then ended with only `fatal close 1008: GATEWAY_ERR_BAD_REQUEST`, the reason
 * the server gave ("history must be an integer from 1 to 1000") not reaching the application. RangeError naming it.
 */
export function checkResumeOptions(lastSequenceId: unknown, history: unknown): void {
  if (
    lastSequenceId !== undefined &&
    lastSequenceId !== 'live' &&
    !(Number.isSafeInteger(lastSequenceId) && (lastSequenceId as number) >= 0)
  ) {
    throw new RangeError(`lastSequenceId: ${String(lastSequenceId)} is not an integer >= 0 or 'live'`);
  }
  if (history !== undefined && !(Number.isSafeInteger(history) && (history as number) >= 1 && (history as number) <= MAX_REPLAY_HISTORY)) {
    throw new RangeError(`history: ${String(history)} is not an integer from 1 to ${MAX_REPLAY_HISTORY}`);
  }
}
