/**
 * What the chat page's top bar says about its socket: the state badge (in words, details in its tooltip), the
 * "retry now" button while reconnecting, whether the message box takes input, and the count of messages the
 * server has not confirmed. Apart from the page's logic because it only writes the DOM: the client's events
 * decide when.
 */
import { el } from './page-elements';

/**
 * The badge says the state in words (details in its tooltip). While reconnecting it offers "retry now": a wait
 * grows to 30 s, and the user often knows better (the wifi is back) than the backoff does.
 */
export function setConnectionState(state: string, detail = '', tooltip = ''): void {
  const badge = el('state');
  badge.dataset['state'] = state;
  badge.textContent = state === 'reconnecting' ? 'reconnecting…' : detail ? `${state} ${detail}` : state;
  badge.title = tooltip;
  if (state !== 'reconnecting') delete badge.dataset['attempt'];
  el('retry').classList.toggle('hidden', state !== 'reconnecting');
  const usable = state === 'open';
  el<HTMLInputElement>('input').disabled = !usable && state !== 'reconnecting';
  el<HTMLButtonElement>('send').disabled = !usable && state !== 'reconnecting';
}

/** Waiting to reconnect: which attempt comes next and when (the attempt also on the badge, for tests and styles). */
export function showReconnecting(attempt: number, delayMs: number): void {
  setConnectionState('reconnecting', '', `attempt ${attempt}, next in ${Math.round(delayMs / 100) / 10} s`);
  el('state').dataset['attempt'] = String(attempt);
}

/** The messages sent and not yet confirmed by the server (the client's pendingCount). */
export function showPendingCount(n: number): void {
  el('pending').textContent = n > 0 ? `${n} unconfirmed` : '';
}
