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
