/**
 * How the chat page sends its user's messages so that none is lost: each is kept in this browser (unsent-store.ts)
 * from the moment it is written until its message_ack, always sent with its own message_id (a re-send after a
 * reload is answered as a duplicate, not written twice), and a refusal is kept and shown on the message, with
 * "send again" where a retry may succeed (send-again.ts). Apart from the page's logic because this is the one
 * part with a promise to keep; which conversation is open and its socket are the page's.
 */
import type { ChatClient, ChatClientError } from '../chat-client';
import { defaultGenerateId } from '../client-platform';
import { refusalSentence } from './human-errors';
import type { MessageView } from './message-view';
import { canSendAgain } from './send-again';
import { createUnsentStore, keepNothing, unsentKey, type UnsentMessage, type UnsentStore } from './unsent-store';

/**
 * The unsent messages `keptFor` wrote in a conversation, in localStorage. Nothing is kept for a user the page
 * does not know before its socket (a reload must find them), nor where storage is disabled.
 */
export function openUnsentStore(keptFor: string | undefined, conversationId: string): UnsentStore {
  if (keptFor === undefined) return keepNothing();
  try {
    return createUnsentStore(localStorage, unsentKey(location.origin, keptFor, conversationId));
  } catch {
    return keepNothing(); // storage disabled: reading localStorage itself throws
  }
}

export interface MessageSenderDeps {
  readonly view: Pick<MessageView, 'addPending' | 'dropPending' | 'markRefused' | 'markSending'>;
  /** The open conversation's client (undefined: none open, or being left); answers for an older one change nothing shown. */
  client(): ChatClient | undefined;
  /** The client has ended (it gave up, or the server closed for good): open the conversation again, which sends what is kept. */
  reopen(): void;
  /** The count of unconfirmed messages may have changed. */
  pendingChanged(): void;
}

export interface MessageSender {
  /** The id the client gives the message being sent now (its generateId), so its pending line can be matched. */
  readonly sendingId: string | undefined;
  /** The open conversation's unsent messages (keepNothing() while none is open). */
  readonly unsent: UnsentStore;
  /** The open conversation changed: `store` holds its unsent messages (keepNothing(): none is open). */
  use(store: UnsentStore): void;
  /** What this user wrote here and the server has not acknowledged: shown at once, refusals with them. */
  showKept(): void;
  /** Kept messages go first, in the order written; the client sends them once connected. */
  sendKept(c: ChatClient): void;
  /** A message just typed: shown at once, kept, sent. */
  send(c: ChatClient, text: string): void;
  /** Marks `m` refused, with "send again" where a retry may succeed (send-again.ts). */
  showRefused(m: UnsentMessage, code: string, message: string): void;
}

export function createMessageSender(deps: MessageSenderDeps): MessageSender {
  const { view } = deps;
  let unsent = keepNothing();
  let sendingId: string | undefined;

  /**
   * Sends `m` with its own message_id (kept in `store` until acknowledged). A refusal of the message itself is kept
   * with it; the client ending (closed, switched away) leaves it kept as unsent, to go with the next connection.
   */
  function dispatch(c: ChatClient, store: UnsentStore, m: UnsentMessage): void {
    sendingId = m.message_id;
    const sent = c.send(m.content, m.metadata);
    sendingId = undefined;
    sent.then(
      (ack) => {
        store.remove(m.message_id);
        // Answered as a duplicate: it landed before (a re-send after a reload) and its record is shown or older.
        if (ack.duplicate && deps.client() === c) view.dropPending(m.message_id);
        deps.pendingChanged();
      },
      (err: ChatClientError) => {
        if (err.messageId !== undefined) store.put({ ...m, refused: { code: err.code, message: err.message } });
        if (deps.client() === c) showRefused(m, err.code, err.message);
        deps.pendingChanged();
      },
    );
  }

  function showRefused(m: UnsentMessage, code: string, message: string): void {
    view.markRefused(m.message_id, {
      sentence: refusalSentence(code, message),
      detail: `${code}: ${message}`,
      ...(canSendAgain(code) ? { sendAgain: () => sendAgain(m) } : {}),
    });
  }

  /** The same message again, same message_id: on the open socket, or by opening the conversation again. */
  function sendAgain(m: UnsentMessage): void {
    const fresh: UnsentMessage = {
      message_id: m.message_id,
      content: m.content,
      ...(m.metadata !== undefined ? { metadata: m.metadata } : {}),
    };
    unsent.put(fresh);
    view.markSending(m.message_id);
    const client = deps.client();
    if (client && client.state !== 'closed') dispatch(client, unsent, fresh);
    else deps.reopen();
    deps.pendingChanged();
  }

  return {
    get sendingId() {
      return sendingId;
    },
    get unsent() {
      return unsent;
    },
    use(store) {
      unsent = store;
    },
    showKept() {
      for (const m of unsent.list()) {
        view.addPending(m.message_id, m.content);
        if (m.refused) showRefused(m, m.refused.code, m.refused.message);
      }
    },
    sendKept(c) {
      const kept = unsent;
      for (const m of kept.list()) if (!m.refused) dispatch(c, kept, m);
    },
    send(c, text) {
      const m: UnsentMessage = { message_id: defaultGenerateId(), content: text };
      view.addPending(m.message_id, text);
      unsent.put(m);
      dispatch(c, unsent, m);
      deps.pendingChanged();
    },
    showRefused,
  };
}
