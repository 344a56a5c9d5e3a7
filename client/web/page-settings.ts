/**
 * Settings the server hands the browser page it serves, as meta tags in the page (the page has no config
 * of its own, and a meta tag needs no extra request before the client starts or the page signs in).
 */

/** chat.context.ws_max_retries: the page's client gives up after this many consecutive failed attempts. */
export const MAX_RETRIES_META = 'nlweb-chat-max-retries';

/** The tag mountWebClient writes into the page's head. */
export function maxRetriesMetaTag(maxRetries: number): string {
  return `<meta name="${MAX_RETRIES_META}" content="${String(Math.trunc(maxRetries))}" />`;
}

/** The retries the server configured, or undefined (no tag, or not a count: the page never gives up). */
export function readMaxRetries(doc: {
  querySelector(selector: string): { getAttribute(name: string): string | null } | null;
}): number | undefined {
  const content = doc.querySelector(`meta[name="${MAX_RETRIES_META}"]`)?.getAttribute('content') ?? '';
  return /^\d+$/.test(content) ? Number(content) : undefined;
}

/** server.auth.mode: how the page signs people in (a token in jwt mode, a user id in dev mode). */
export const AUTH_MODE_META = 'nlweb-chat-auth-mode';
export type PageAuthMode = 'dev' | 'jwt';

export function authModeMetaTag(mode: PageAuthMode): string {
  return `<meta name="${AUTH_MODE_META}" content="${mode}" />`;
}

/** The server's auth mode, or undefined (no tag, or an unknown mode: the page signs in as in dev mode). */
export function readAuthMode(doc: Parameters<typeof readMaxRetries>[0]): PageAuthMode | undefined {
  const content = doc.querySelector(`meta[name="${AUTH_MODE_META}"]`)?.getAttribute('content');
  return content === 'jwt' || content === 'dev' ? content : undefined;
}

/**
 * chat.limits.max_message_length: the page refuses a longer message itself, saying how long it is, and keeps the text
 * in the input. Sent, the server would refuse it; past server.websocket.max_frame_bytes (64 KiB) it closes the socket
 * (1009), which ends the page's connection for good.
 */
export const MAX_MESSAGE_LENGTH_META = 'nlweb-chat-max-message-length';

export function maxMessageLengthMetaTag(maxLength: number): string {
  return `<meta name="${MAX_MESSAGE_LENGTH_META}" content="${String(Math.trunc(maxLength))}" />`;
}

/** The longest message content (UTF-16 code units, as the server counts), or undefined (no tag: the page checks nothing). */
export function readMaxMessageLength(doc: Parameters<typeof readMaxRetries>[0]): number | undefined {
  const content = doc.querySelector(`meta[name="${MAX_MESSAGE_LENGTH_META}"]`)?.getAttribute('content') ?? '';
  return /^[1-9]\d*$/.test(content) ? Number(content) : undefined;
}
