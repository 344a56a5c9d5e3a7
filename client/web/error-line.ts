/**
 * The chat page's one line for errors that belong to no message: a sentence for people, the codes and the
 * server's words in its tooltip. Apart so every failure (HTTP refusals, socket errors, a closed socket) is said
 * the same way.
 */
import { apiRefusalSentence, humanSentence } from './human-errors';
import type { ApiErrorBody } from './page-api';
import { el } from './page-elements';

/** A sentence for people; `detail` (codes, the server's words) goes to the tooltip. '' clears the line. */
export function showError(text: string, detail = ''): void {
  el('errors').textContent = text;
  el('errors').title = detail;
}

/** An HTTP API refusal: what failed, then the sentence for its code (and a 400's reason: apiRefusalSentence). */
export function showApiError(what: string, status: number, body: ApiErrorBody): void {
  showError(apiRefusalSentence(what, status, body), `${body.error ?? status}: ${body.message ?? ''}`);
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

/**
 * A leave the server refused, over the socket or HTTP. Past the membership budget (GATEWAY_ERR_RATE_LIMITED with a
 * wait) it says so and when to try again, rather than the code's general "sending too fast"; any other refusal
 * reads as its code's sentence.
 */
export function showLeaveRefused(code: string | undefined, message: string, retryInMs?: number): void {
  const detail = `${code ?? 'error'}: ${message}`;
  if (code === 'GATEWAY_ERR_RATE_LIMITED' && retryInMs !== undefined) {
    const seconds = Math.max(1, Math.ceil(retryInMs / 1000));
    return showError(`Could not leave the conversation yet: too many joins and leaves in a short time. Try again in ${seconds} s.`, detail);
  }
  showError(`Could not leave the conversation. ${humanSentence(code)}`, detail);
}
