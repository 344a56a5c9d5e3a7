/**
 * The chat page's one line for errors that belong to no message: a sentence for people, the codes and the
 * server's words in its tooltip. Apart so every failure (HTTP refusals, socket errors, a closed socket) is said
 * the same way.
 */
import { humanSentence } from './human-errors';
import type { ApiErrorBody } from './page-api';
import { el } from './page-elements';

/** A sentence for people; `detail` (codes, the server's words) goes to the tooltip. '' clears the line. */
export function showError(text: string, detail = ''): void {
  el('errors').textContent = text;
  el('errors').title = detail;
}

/** An HTTP API refusal: what failed, then the sentence for its code. */
export function showApiError(what: string, status: number, body: ApiErrorBody): void {
  showError(`${what} ${humanSentence(body.error)}`, `${body.error ?? status}: ${body.message ?? ''}`);
}

/**
 * A read refused by the server's per-user read budget (429 GATEWAY_ERR_RATE_LIMITED on a GET): said as such, not as
 * "sending too fast", with when the page asks again.
 */
export function showReadLimited(what: string, retryInMs: number, body: ApiErrorBody): void {
  const seconds = Math.ceil(retryInMs / 1000);
  showError(
    `${what} The server is limiting how often this page may read; trying again in ${seconds} s.`,
    `${body.error ?? 429}: ${body.message ?? ''}`,
  );
}
