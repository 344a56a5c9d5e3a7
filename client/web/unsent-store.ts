/**
 * The chat page's own messages the server has not acknowledged yet, kept in the browser's localStorage so that a
 * reload, a switch to another conversation or a closed tab does not lose them: the page shows them again as
 * "sending…" and re-sends them with the same message_id (the runtime answers a message it already has with its
 * original record, so one that did land before the reload shows once). A message the server refused is kept too,
 * marked, until the user sends it again, takes its text back or discards it.
 *
 * One entry per conversation, keyed by server origin, user and conversation id (two users of one browser, or two
 * servers on one host, never see each other's). Bounded: a message that would take the conversation's entry over
 * UNSENT_LIMITS is still sent, but not kept across a reload (put() says so). Storage that throws (quota, disabled
 * storage) is treated the same way: the page works as it did without the store.
 */

/** What is kept of one message: what goes on the wire again, and the server's refusal if there was one. */
export interface UnsentMessage {
  readonly message_id: string;
  readonly content: string;
  readonly metadata?: Record<string, unknown>;
  /** The server refused it: shown refused, not sent again until the user asks. */
  readonly refused?: { readonly code: string; readonly message: string };
}

/** Per conversation, at most this many messages and this many characters of stored JSON (~2 bytes each). */
export const UNSENT_LIMITS = { messages: 200, chars: 256 * 1024 } as const;

/** The part of Storage used here (localStorage in the page). */
export type UnsentStorage = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

export interface UnsentStore {
  /** The kept messages, oldest first. */
  list(): UnsentMessage[];
  /** Keeps `m` (replacing an entry with its message_id, in place); false when it is not kept (bound, storage). */
  put(m: UnsentMessage): boolean;
  remove(messageId: string): void;
  /** Forgets every message of the conversation (the user left it). */
  clear(): void;
}

const KEY_PREFIX = 'nlweb-chat.unsent:';

/** The storage key of one user's unsent messages in one conversation of one server. */
export function unsentKey(origin: string, user: string, conversationId: string): string {
  // JSON, not a separator: ids may contain any character, and no two triples may share a key.
  return KEY_PREFIX + JSON.stringify([origin, user, conversationId]);
}

/** Reads an entry back, keeping only well-formed messages (the storage is the user's to edit). */
function parse(raw: string | null): UnsentMessage[] {
  if (raw === null) return [];
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return [];
  }
  if (!Array.isArray(value)) return [];
  return (value as unknown[]).filter((m): m is UnsentMessage => {
    if (typeof m !== 'object' || m === null) return false;
    const { message_id, content, metadata } = m as Record<string, unknown>;
    return (
      typeof message_id === 'string' &&
      message_id !== '' &&
      typeof content === 'string' &&
      (metadata === undefined || (typeof metadata === 'object' && metadata !== null && !Array.isArray(metadata)))
    );
  });
}

/** The store of `key` in `storage`; every call reads or writes the storage, so two tabs see each other's changes. */
export function createUnsentStore(storage: UnsentStorage, key: string): UnsentStore {
  const read = (): UnsentMessage[] => {
    try {
      return parse(storage.getItem(key));
    } catch {
      return [];
    }
  };
  const write = (messages: readonly UnsentMessage[]): boolean => {
    try {
      if (messages.length === 0) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(messages));
      return true;
    } catch {
      return false;
    }
  };
  return {
    list: read,
    put(m) {
      const messages = read();
      const at = messages.findIndex((e) => e.message_id === m.message_id);
      if (at >= 0) messages[at] = m;
      else messages.push(m);
      if (messages.length > UNSENT_LIMITS.messages || JSON.stringify(messages).length > UNSENT_LIMITS.chars) return false;
      return write(messages);
    },
    remove(messageId) {
      const messages = read();
      const rest = messages.filter((e) => e.message_id !== messageId);
      if (rest.length !== messages.length) write(rest);
    },
    clear() {
      write([]);
    },
  };
}

/** A store that keeps nothing: no storage, or no user to key it by. */
export function keepNothing(): UnsentStore {
  return { list: () => [], put: () => false, remove: () => undefined, clear: () => undefined };
}
