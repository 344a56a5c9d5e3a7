/**
 * What the chat page tells a person instead of an error code: one short sentence per code, in this one table,
 * for every code the server documents (docs/errors.md; test/client/human-errors.test.ts keeps them in step) and
 * the client's own. The page keeps the code and the server's message in a tooltip, for whoever debugs.
 */

const STORAGE_DOWN = 'The server cannot save or read messages right now. Try again later.';
const SERVER_BUG = 'The server ran into an internal error.';
const PAGE_BUG = 'The page sent something the server did not understand. Reload the page.';

export const HUMAN_SENTENCES: Readonly<Record<string, string>> = {
  CHAT_ERR_QUEUE_FULL: 'The conversation is busy; your message will go out in a moment.',
  CHAT_ERR_PARTICIPANT_LIMIT: 'This conversation is full.',
  CHAT_ERR_PARTICIPANT_ID_CONFLICT: 'The same name was given to a person and to an assistant.',
  CHAT_ERR_NOT_FOUND: 'This conversation does not exist (any more).',
  CHAT_ERR_NOT_PARTICIPANT: 'You are not a member of this conversation.',
  CHAT_ERR_PARTICIPANT_NOT_FOUND: 'That person is not a member of this conversation.',
  CHAT_ERR_INVITE_ONLY: 'This conversation is invite-only: ask a member to add you.',
  CHAT_ERR_ALREADY_EXISTS: 'A conversation with this id already exists.',
  CHAT_ERR_CONVERSATION_FAILED: 'This conversation stopped working after repeated failures. Try again later.',
  CHAT_ERR_RESTARTING: 'The conversation is restarting. Try again in a moment.',
  CHAT_ERR_CLOSED: 'The server is shutting down.',
  CHAT_ERR_INVALID_MESSAGE: 'The message could not be accepted.',
  CHAT_ERR_INVALID_ARGUMENT: 'That name or setting could not be accepted.',
  CHAT_ERR_FORBIDDEN: 'You are not allowed to do that here.',
  CHAT_ERR_UNKNOWN_AGENT: 'One of the assistants named does not exist on this server.',
  CHAT_ERR_MESSAGE_ID_REUSED: 'This message clashed with one sent before.',
  CHAT_ERR_OWNED_ELSEWHERE: 'This conversation is on another server right now.',
  AGENT_ERR_TIMEOUT: 'The assistant took too long.',
  AGENT_ERR_HTTP: "The assistant's service answered with an error.",
  AGENT_ERR_CONNECTION: "The assistant's service cannot be reached right now.",
  AGENT_ERR_MALFORMED_STREAM: "The assistant's service sent an answer that could not be read.",
  AGENT_ERR_FAILED: 'Something went wrong while the assistant was answering.',
  AGENT_ERR_INVALID_OUTPUT: 'The assistant produced an answer that could not be shown.',
  AGENT_ERR_CANCELLED: 'The assistant stopped answering.',
  STORAGE_ERR_NOT_OPEN: STORAGE_DOWN,
  STORAGE_ERR_UNAVAILABLE: STORAGE_DOWN,
  STORAGE_ERR_FENCED: STORAGE_DOWN,
  STORAGE_ERR_SCHEMA_VERSION: STORAGE_DOWN,
  // The server's storage cannot change stored messages (a provider without replaceContent): editing is off there.
  STORAGE_ERR_UNSUPPORTED: 'This server cannot edit or delete messages.',
  STORAGE_ERR_DUPLICATE_SEQUENCE: SERVER_BUG,
  STORAGE_ERR_SEQUENCE_GAP: SERVER_BUG,
  STORAGE_ERR_DUPLICATE_MESSAGE: SERVER_BUG,
  STORAGE_ERR_INVALID_ARGUMENT: SERVER_BUG,
  CONFIG_ERR_INVALID: 'The server is misconfigured.',
  CONFIG_ERR_READ: 'The server is misconfigured.',
  GATEWAY_ERR_UNAUTHENTICATED: 'You are not signed in, or your sign-in has expired.',
  GATEWAY_ERR_INVALID_FRAME: PAGE_BUG,
  GATEWAY_ERR_MALFORMED_JSON: PAGE_BUG,
  GATEWAY_ERR_FRAME_TOO_LARGE: 'The message is too large to send.',
  GATEWAY_ERR_CONTENT_INVALID: 'The message is empty, too long, or contains characters that are not allowed.',
  GATEWAY_ERR_RATE_LIMITED: 'You are sending too fast; wait a moment.',
  GATEWAY_ERR_TOO_MANY_CONNECTIONS: 'You have too many chat windows open. Close some of them.',
  GATEWAY_ERR_HELD_FOR_ORDER: 'An earlier message is still on its way; this one follows it.',
  GATEWAY_ERR_SLOW_CONSUMER: 'The connection could not keep up; catching up.',
  GATEWAY_ERR_HEARTBEAT_TIMEOUT: 'The connection went quiet; reconnecting.',
  GATEWAY_ERR_ORIGIN_NOT_ALLOWED: 'This page may not connect to the chat server (its site is not allowed there).',
  GATEWAY_ERR_TLS_REQUIRED: 'This server only accepts secure (https) connections.',
  GATEWAY_ERR_NOT_FOUND: 'The server does not know this address.',
  GATEWAY_ERR_METHOD_NOT_ALLOWED: PAGE_BUG,
  GATEWAY_ERR_BAD_REQUEST: 'The request was not valid.',
  GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION: 'This page is too old or too new for the chat server; reload it or update the app.',
  GATEWAY_ERR_UNSUPPORTED_MEDIA_TYPE: PAGE_BUG,
  GATEWAY_ERR_SHUTTING_DOWN: 'The server is shutting down.',
  GATEWAY_ERR_INTERNAL: SERVER_BUG,
  CLIENT_CLOSED: 'The connection was closed.',
  CLIENT_CONNECT_FAILED: 'Could not open a connection to the server.',
  CLIENT_CURSOR_RESET: 'The server lost some recent messages; showing what it still has.',
  CLIENT_NO_WEBSOCKET: 'This browser cannot open a live connection.',
  CLIENT_MESSAGE_TOO_LARGE: 'This message is too large for the server; shorten or split it.',
  CLIENT_NOT_CONNECTED: 'There is no connection to the server yet.',
};

/** Said for a code the table does not know (a newer server). */
export const UNKNOWN_ERROR = 'Something went wrong.';

/** The sentence for a code. */
export function humanSentence(code: string | undefined): string {
  return (code !== undefined && HUMAN_SENTENCES[code]) || UNKNOWN_ERROR;
}

/** The longest server reason the page shows after a sentence; the whole message stays in the tooltip. */
export const MAX_SHOWN_REASON = 300;

/**
 * An HTTP API refusal as a person reads it: what failed, then the sentence for its code, and for a 400 the server's
 * own reason after it. A 400's code says only that a field was refused (GATEWAY_ERR_BAD_REQUEST,
 * CHAT_ERR_INVALID_ARGUMENT, ...); which one and why (`unknown agent "nope"`, a reserved id, the characters an id may
 * have) only the server's message says, and a person cannot fix the field without it. Other statuses' sentences say
 * it all. Text, never markup: the page sets it as textContent (error-line.ts).
 */
export function apiRefusalSentence(what: string, status: number, body: { readonly error?: string; readonly message?: string }): string {
  const said = `${what} ${humanSentence(body.error)}`;
  const reason = typeof body.message === 'string' ? body.message.trim() : '';
  if (status !== 400 || reason === '') return said;
  const shown = reason.length > MAX_SHOWN_REASON ? `${reason.slice(0, MAX_SHOWN_REASON - 1)}…` : reason;
  return `${said} The server said: ${shown}${/[.!?…]$/.test(shown) ? '' : '.'}`;
}

/**
 * What was wrong with a refused message, when the server's reason says (GATEWAY_ERR_CONTENT_INVALID: its message is
 * contentProblem's, docs/protocol.md, Content rules): "empty, too long, or characters not allowed" left a person who
 * pasted a terminal's colour codes guessing which. Any other refusal reads as its code's sentence.
 */
export function refusalSentence(code: string, message: string): string {
  if (code === 'GATEWAY_ERR_CONTENT_INVALID') {
    if (message.includes('control characters'))
      return "The message contains control characters (such as a terminal's colour codes); only line breaks and tabs can be sent.";
    const longer = /longer than (\d+) characters/.exec(message);
    if (longer) return tooLongSentence(longer[1]);
    if (message.includes('lone surrogate')) return 'The message contains a broken character (half of an emoji or symbol).';
    if (message.includes('content is empty')) return 'The message is empty.';
  }
  // The client's own refusal before sending (client/message-limits.ts): too long reads as the server's would.
  const overLength = code === 'CLIENT_MESSAGE_TOO_LARGE' ? /max_message_length \((\d+)\)/.exec(message) : null;
  if (overLength) return tooLongSentence(overLength[1]);
  return humanSentence(code);
}

function tooLongSentence(limit: string): string {
  return `The message is too long: at most ${Number(limit).toLocaleString('en-US')} characters fit in one message.`;
}

/**
 * Said on the page of a user the owner removed (DELETE …/participants/{id}): its socket then closes with 4003, whose
 * own sentence ("You are not a member of this conversation.") would leave the user wondering what happened.
 */
export function removedSentence(byName: string): string {
  return `${byName} removed you from this conversation: you no longer see its new messages and cannot post here.`;
}

/** The error code a fatal close stands for (protocol.md, close codes), when its reason names none. */
const CLOSE_CODE_ERRORS: Readonly<Record<number, string>> = {
  1001: 'GATEWAY_ERR_SHUTTING_DOWN',
  1007: 'GATEWAY_ERR_MALFORMED_JSON',
  1008: 'GATEWAY_ERR_BAD_REQUEST',
  1009: 'GATEWAY_ERR_FRAME_TOO_LARGE',
  4001: 'GATEWAY_ERR_UNAUTHENTICATED',
  4003: 'CHAT_ERR_NOT_PARTICIPANT',
  4004: 'CHAT_ERR_NOT_FOUND',
  4009: 'CHAT_ERR_PARTICIPANT_LIMIT',
  4026: 'GATEWAY_ERR_TLS_REQUIRED',
  4421: 'CHAT_ERR_OWNED_ELSEWHERE',
  4503: 'CHAT_ERR_CONVERSATION_FAILED',
};

/** The client's `closed` event as a sentence: by the code its reason names, else by the close code. */
export function closedSentence(closed: { readonly code?: number; readonly reason: string }): string {
  const named = /\b[A-Z]+_ERR_[A-Z_]+\b/.exec(closed.reason)?.[0];
  if (named !== undefined && HUMAN_SENTENCES[named]) return HUMAN_SENTENCES[named];
  if (closed.code !== undefined && CLOSE_CODE_ERRORS[closed.code]) return humanSentence(CLOSE_CODE_ERRORS[closed.code]);
  if (closed.reason.startsWith('gave up')) return 'Could not reach the server. Reload the page to try again.';
  return 'The connection was closed. Reload the page to reconnect.';
}
