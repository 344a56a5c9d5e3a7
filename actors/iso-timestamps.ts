/** Last millisecond `Date#toISOString` writes in the form YYYY-MM-DDTHH:MM:SS.mmmZ (year 9999). */
const FOUR_DIGIT_YEARS_END_MS = 253_402_300_800_000;

/**
 * Formats record timestamps exactly as `new Date(ms).toISOString()`, reusing the text up to the
 * second: every sequenced record gets one, and on the machines this runs on toISOString costs about
 * 1 µs while the cached form costs under 0.05 µs (a conversation's records mostly share their second).
 * One per conversation (held by its context), so nothing is shared between conversations.
 */
export class IsoTimestamps {
  private second = NaN;
  /** "YYYY-MM-DDTHH:MM:SS." of `second`. */
  private prefix = '';

  format(ms: number): string {
    if (!Number.isInteger(ms) || ms < 0 || ms >= FOUR_DIGIT_YEARS_END_MS) return new Date(ms).toISOString();
    const second = Math.floor(ms / 1000);
    if (second !== this.second) {
      this.second = second;
      this.prefix = new Date(second * 1000).toISOString().slice(0, 20);
    }
    const millis = ms - second * 1000;
    return this.prefix + (millis < 10 ? '00' : millis < 100 ? '0' : '') + millis + 'Z';
  }
}
