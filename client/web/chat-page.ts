/**
 * The browser chat page's logic (client/web/chat.html), on top of the reference client: which conversation is
 * open, its socket, and the client's events wired to the parts of the page that show them.
 * Identity: the server says its auth mode in the page (page-settings.ts). In jwt mode the page asks for a token
 * and keeps it in sessionStorage (page-auth.ts; a `?token=` in the URL is moved there); in dev mode it asks for a
 * user id, kept in the URL (?user_id=alice) (sign-in.ts).
 * Only textContent is used for anything a user typed, so messages can never inject markup.
 * Own messages not yet acknowledged are kept in localStorage (message-sender.ts, unsent-store.ts) until their
 * message_ack: a reload or a switch to another conversation shows them again and sends them again, with the same
 * message_id.
 * The parts, each in its own module: sign-in.ts, page-api.ts (signed HTTP requests), conversation-list.ts,
 * conversation-reads.ts, history-pager.ts, message-view.ts, message-sender.ts, people-panel.ts, typing-indicator.ts and
 * typing-announcer.ts, connection-status.ts, error-line.ts, share-link.ts, create-form.ts, narrow-panels.ts,
 * read-state.ts (marking read, "seen by"; the list's unread badges are unread-badge.ts).
 */
import { createChatClient, type ChatClient, type ChatClientError } from '../chat-client';
import { defaultGenerateId } from '../client-platform';
import type { ChatMessage, Participant } from '../protocol-frames';
import { closedSentence, humanSentence, removedSentence } from './human-errors';
import { setConnectionState, showPendingCount, showReconnecting } from './connection-status';
import { createConversationList } from './conversation-list';
import { createConversationReads } from './conversation-reads';
import { wireCreateForm } from './create-form';
import { showApiError, showError, showLeaveRefused, showReadLimited } from './error-line';
import { createHistoryPager, HISTORY_PAGE_SIZE, type HistoryPager } from './history-pager';
import { createListRefresh } from './list-refresh';
import { createMemberRemoval, wireAddMember } from './member-controls';
import { removalAfter } from './membership-lines';
import { createMessageSender, openUnsentStore } from './message-sender';
import { createMessageView } from './message-view';
import { wireNarrowPanels } from './narrow-panels';
import { createPageApi, fetchHistoryPage, retryAfterMs, type ApiErrorBody } from './page-api';
import { takeToken, TOKEN_KEY, tokenSubject } from './page-auth';
import { el } from './page-elements';
import { readAuthMode, readMaxMessageLength, readMaxRetries } from './page-settings';
import { createPeoplePanel } from './people-panel';
import { wireReadState, type ReadState } from './read-state';
import { createSeenBy } from './seen-by';
import { hideShareLink, showShareLink, wireShareCopy } from './share-link';
import { askForToken, askForUserId, signedInLabel } from './sign-in';
import { createTypingAnnouncer } from './typing-announcer';
import { createTypingIndicator } from './typing-indicator';
import { keepNothing } from './unsent-store';

/** A scroll this close to the top of the messages loads the earlier page. */
const NEAR_TOP_PX = 40;
/** edit() and delete() refuse only once the client has ended (offline, they are kept and sent after the reconnect). */
const NOT_CONNECTED_CHANGE = 'The connection has ended: the message was not changed.';

function start(): void {
  const address = new URL(location.href);
  const token = takeToken(address, sessionStorage);
  if (address.href !== location.href) history.replaceState(null, '', address);
  const params = new URLSearchParams(location.search);
  const jwtMode = readAuthMode(document) === 'jwt';
  // A jwt server does not know ?user_id=: only a token signs in there.
  const userId = token || jwtMode ? undefined : (params.get('user_id') ?? undefined);
  if (!token && !userId) return jwtMode ? askForToken() : askForUserId(params);
  el('sidebar').classList.remove('hidden');
  el('main').classList.remove('hidden');
  el('me').textContent = signedInLabel(userId, token ? tokenSubject(token) : undefined);
  el('signout').addEventListener('click', () => {
    if (!token) return void (location.search = '');
    sessionStorage.removeItem(TOKEN_KEY);
    location.reload();
  });

  /** Set once the server refused the token: nothing more is asked with it. */
  let refused = false;
  /** The server refused the token (expired, wrong): forget it and ask for another. */
  const tokenRefused = (detail: string): void => {
    if (refused) return;
    refused = true;
    closeCurrent();
    sessionStorage.removeItem(TOKEN_KEY);
    askForToken('Your token was not accepted (it may have expired). Paste a new one.', detail);
  };
  const api = createPageApi({ token, userId, tokenRefused });

  let client: ChatClient | undefined;
  /** The client whose leave() waits for the server's answer: its `closed` event is that answer, not an error to show. */
  let leaving: ChatClient | undefined;
  let current: string | undefined;
  /** The open conversation's title as the server gave it (open() takes it again on a reset). */
  let currentTitle = '';
  /** The conversation the join offer is for (a link opened by a non-member). */
  let offered: string | undefined;
  /** Who this page acts as: the dev user id, or (with a token) the participant id the server named. */
  let me = userId ?? (token ? tokenSubject(token) : undefined);
  /** Whose unsent messages this page keeps: known before any socket, so a reload finds them (none: nothing kept). */
  const keptFor = me;
  /** The open conversation's history (history-pager.ts); its identity also tells an open still in progress. */
  let pager: HistoryPager | undefined;
  const removeMember = createMemberRemoval(api);
  const people = createPeoplePanel({
    list: el('participant-list'),
    me: () => me,
    remove(participantId, name) {
      if (current !== undefined) void removeMember(current, participantId, name);
    },
  });
  const typing = createTypingIndicator({ line: el('typing'), nameOf: (id) => people.nameOf(id) });
  const typingAnnouncer = createTypingAnnouncer(() => client);
  const view = createMessageView({
    list: el<HTMLUListElement>('messages'),
    scroller: el('scroller'),
    nameOf: (id) => people.nameOf(id),
    me: () => me,
    restore(text) {
      const input = el<HTMLInputElement>('input');
      input.value = text;
      input.focus();
    },
    forget: (messageId) => sender.unsent.remove(messageId),
    editOwn(messageId, text) {
      const changed = window.prompt('Edit your message', text);
      // Cancelled, unchanged or emptied: nothing to send (deleting is the other button).
      if (changed === null || changed === text || changed.trim() === '') return;
      if (!client?.edit(messageId, changed)) showError(NOT_CONNECTED_CHANGE, 'edit: not connected');
    },
    deleteOwn(messageId) {
      if (!window.confirm('Delete this message for everyone?')) return;
      if (!client?.delete(messageId)) showError(NOT_CONNECTED_CHANGE, 'delete: not connected');
    },
  });
  const seenBy = createSeenBy({ list: el<HTMLUListElement>('messages'), me: () => me, nameOf: (id) => people.nameOf(id) });
  /** The open conversation's read marks and "seen by", with its client. */
  let readState: ReadState | undefined;
  const updatePending = (): void => showPendingCount(client?.pendingCount ?? 0);
  const sender = createMessageSender({
    view,
    client: () => client,
    reopen: () => {
      if (current !== undefined) void openChecked(current);
    },
    pendingChanged: updatePending,
  });

  const conversations = createConversationList({
    list: el<HTMLUListElement>('conversations'),
    async fetchMembers(conversationId) {
      const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}`);
      return res.ok ? ((await res.json()) as { participants: Participant[] }).participants : undefined;
    },
    me: () => me,
    pick: (conversationId, title) => open(conversationId, title),
    renamed: (label) => (el('title').textContent = label),
  });

  const conversationReads = createConversationReads({
    api,
    list: conversations,
    olderButton: el<HTMLButtonElement>('older-conversations'),
    refreshSoon: () => void listRefresh.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
  });

  function renderMessage(m: ChatMessage): void {
    view.add(m);
    // The sender has stopped typing once its message arrives.
    typing.messageFrom(m.sender_id);
  }

  /** Nothing open: no socket, no link to share, no join offer. */
  function closeCurrent(): void {
    pager?.close();
    pager = undefined;
    readState?.stop();
    readState = undefined;
    client?.close();
    client = undefined;
    current = undefined;
    // Its unsent messages stay kept: opening it again shows and sends them.
    sender.use(keepNothing());
    conversations.setOpen(undefined);
    setConnectionState('idle');
    hideShareLink();
    el('leave').classList.add('hidden');
    el('add-member-form').classList.add('hidden');
    el('join-offer').classList.add('hidden');
    offered = undefined;
  }

  /**
   * Leave, after asking: everyone in the conversation sees it, and its messages are gone from this user's view.
   * Over the open socket (client.leave(), settled by the server's answer); without one, over HTTP, which also closes
   * any other socket of this user. Only a leave the server confirmed drops the conversation from the page: a refused
   * one (the membership budget, chat.limits.membership_changes_per_second) is said, and the conversation stays open.
   */
  async function leaveCurrent(): Promise<void> {
    const c = client;
    const conversationId = current;
    if (!c || conversationId === undefined) return;
    const question = `Leave “${el('title').textContent ?? conversationId}”? You will no longer see its messages, and everyone in it will see that you left.`;
    if (!window.confirm(question)) return;
    if (c.state === 'open') {
      leaving = c;
      const refusal = await c.leave().then(
        () => undefined,
        (err: unknown) => err as ChatClientError,
      );
      leaving = undefined;
      if (refusal) {
        // Another conversation opened meanwhile (closing this client): nothing to say about this one there.
        if (client !== c) return;
        showLeaveRefused(refusal.code, refusal.message, refusal.retryAfterMs);
        // Ended before an answer (its `closed` event was held back for it): said as the client's end.
        if (refusal.closeCode !== undefined) setConnectionState('closed', '', refusal.message);
        return;
      }
    } else {
      client = undefined; // its `closed` event is expected now, not an error to show
      c.close();
      const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}/leave`, { method: 'POST' });
      if (!res.ok) {
        const body = (await res.json().catch(() => ({}))) as ApiErrorBody;
        return showLeaveRefused(body.error ?? String(res.status), body.message ?? '', res.status === 429 ? retryAfterMs(res) : undefined);
      }
    }
    conversations.markLeft(conversationId);
    // Nothing more can be sent there: what was waiting goes with the membership.
    openUnsentStore(keptFor, conversationId).clear();
    // Unless another conversation was opened while the answer was awaited.
    if (current === conversationId) {
      closeCurrent();
      // A refusal of an earlier try said on the line is no longer true.
      showError('');
      el('title').textContent = 'Pick or create a conversation';
      view.clear();
      people.clear();
      const url = new URL(location.href);
      url.searchParams.delete('conversation');
      history.replaceState(null, '', url);
    }
    await listRefresh.now();
  }

  /**
   * A conversation from the URL is looked up over HTTP first, for its title; a 404 is shown from there,
   * and a 403 (not a member) offers to join: a link is how people are invited, and the API lets any
   * signed-in user join (POST .../join). The page asks first rather than joining on open, because joining
   * is seen by everyone in the conversation. (Without the check the socket would end with 4003/4004: the
   * client offers the refusal subprotocol.)
   */
  async function openChecked(conversationId: string): Promise<void> {
    const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}`);
    const body = (await res.json().catch(() => ({}))) as ApiErrorBody & { title?: string };
    if (res.status === 403 && body.error === 'CHAT_ERR_NOT_PARTICIPANT') return offerToJoin(conversationId);
    if (res.status === 429) {
      const waitMs = retryAfterMs(res);
      showReadLimited(`Could not open ${conversationId} yet.`, waitMs, body);
      // Not if the user opened another conversation meanwhile: the retry would take them back.
      const openWhenRefused = current;
      setTimeout(() => {
        if (current === openWhenRefused) void openChecked(conversationId);
      }, waitMs);
      return;
    }
    if (!res.ok) return showApiError(`Could not open ${conversationId}.`, res.status, body);
    open(conversationId, body.title ?? conversationId);
  }

  function offerToJoin(conversationId: string): void {
    closeCurrent();
    offered = conversationId;
    el('title').textContent = conversationId;
    view.clear();
    people.clear();
    el('join-text').textContent =
      `You are not in the conversation ${conversationId}. Join it to read and write here; everyone in it will see that you joined.`;
    el('join-offer').classList.remove('hidden');
  }

  async function joinOffered(): Promise<void> {
    const conversationId = offered;
    if (conversationId === undefined) return;
    const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}/join`, { method: 'POST' });
    if (!res.ok) {
      const body = (await res.json().catch(() => ({}))) as ApiErrorBody;
      return showApiError(`Could not join ${conversationId}.`, res.status, body);
    }
    await listRefresh.now();
    await openChecked(conversationId);
  }

  function open(conversationId: string, title: string): void {
    closeCurrent();
    current = conversationId;
    currentTitle = title;
    conversations.setOpen(conversationId, title);
    el('title').textContent = conversations.labelOf(conversationId, title);
    showShareLink(conversationId);
    el('leave').classList.remove('hidden');
    el('add-member-form').classList.remove('hidden');
    view.clear();
    sender.use(openUnsentStore(keptFor, conversationId));
    // What this user wrote here and the server has not acknowledged: shown at once, sent once connected.
    sender.showKept();
    people.clear();
    typing.clear();
    showError('');
    /** Earlier pages the read budget refused, to tell whether the retry was read. */
    let historyRefusals = 0;
    const p = createHistoryPager({
      fetchPage: (before) => fetchHistoryPage(api, conversationId, before),
      view: {
        prepend(messages) {
          view.prepend(messages);
          readState?.recordsAdded();
        },
      },
      controls: { scroller: el('scroller'), box: el('history'), button: el<HTMLButtonElement>('load-earlier'), note: el('history-note') },
      failed: (refusal) => {
        if (refusal.status !== 429) return showApiError('Could not load earlier messages.', refusal.status, refusal.body);
        // Over the read budget: the same page is asked again once the server said it may be.
        const waitMs = Math.max(1000, Number((refusal.body as { retry_after_ms?: unknown }).retry_after_ms) || 1000);
        showReadLimited('Could not load earlier messages yet.', waitMs, refusal.body);
        const refusals = ++historyRefusals;
        setTimeout(() => {
          if (pager !== p) return;
          // Read this time (no new refusal meanwhile): the line's message, if it is still the one shown, is no longer true.
          void p.loadEarlier().then(() => {
            const stillSaid = el('errors').textContent?.startsWith('Could not load earlier messages yet.') ?? false;
            if (historyRefusals === refusals && pager === p && stillSaid) showError('');
          });
        }, waitMs);
      },
    });
    pager = p;
    setConnectionState('connecting');
    const url = new URL(location.href);
    url.searchParams.set('conversation', conversationId);
    history.replaceState(null, '', url);
    // The socket starts once the latest page is shown, resuming after its last id: what was posted since the
    // page was read comes over the socket, once, and nothing the page shows is sent again. Without that page (its
    // read refused), the socket brings the latest page's worth itself instead of the whole conversation.
    void p.openLatest().then((resumeAfter) => {
      if (pager === p)
        connect(conversationId, resumeAfter === undefined ? { history: HISTORY_PAGE_SIZE } : { lastSequenceId: resumeAfter });
    });
  }

  /** The conversation's socket, resuming after the latest page, or (`history`) bringing the latest records itself. */
  function connect(conversationId: string, start: { readonly lastSequenceId: number } | { readonly history: number }): void {
    const c = createChatClient({
      url: location.origin,
      conversationId,
      // A chat page keeps trying (at most every 30 s) unless the server set a limit: giving up lost what was typed.
      maxRetries: readMaxRetries(document) ?? Infinity,
      ...(token ? { token } : {}),
      ...(userId && !token ? { userId } : {}),
      generateId: () => sender.sendingId ?? defaultGenerateId(),
      ...start,
    });
    client = c;
    /** Who removed this user, from its latest leave record (it comes before the socket's 4003 close). */
    let removedByWho: string | undefined;
    // Only the replay bounded by `history` says so: older records are read over HTTP from where it started.
    c.on('sync', (e) => {
      if (client === c && e.hasEarlier === true) pager?.earlierBefore(e.from);
    });
    c.on('connected', (info) => {
      me = info.participantId;
      el('me').textContent = signedInLabel(userId, me);
      setConnectionState('open');
    });
    // Only this page's current client draws: one closed by a reset may still hand over what it had read.
    c.on('message', (m) => {
      if (client === c) renderMessage(m);
    });
    c.on('message', (m) => (removedByWho = removalAfter(removedByWho, m, me)));
    c.on('participants', (e) => {
      people.show(e.participants, c.online);
      view.renameSenders();
    });
    c.on('participants', (e) => conversations.noteMembers(conversationId, e.participants));
    c.on('presence', () => people.show(c.participants, c.online));
    c.on('typing', (e) => typing.noted(e.participantId, e.isTyping));
    c.on('error', (e) => {
      // 429s the client retries (rate limit, full mailbox) come as `throttled`, not here; a 429 here is a refused
      // leave, which leaveCurrent says from its promise.
      // A refusal of one of our messages is said on that message (send() rejects with it). An edit or delete refused
      // (not the user's message any more, too long, too fast) is said on the error line, 429 included.
      if (e.replyTo === 'edit' || e.replyTo === 'delete')
        showError(`Could not ${e.replyTo} the message. ${humanSentence(e.code)}`, `${e.code}: ${e.message}`);
      else if (e.status !== 429 && e.messageId === undefined) showError(humanSentence(e.code), `${e.code}: ${e.message}`);
    });
    c.on('ack', updatePending);
    c.on('reconnecting', (e) => showReconnecting(e.attempt, e.delayMs));
    // The server's journal differs from what this page drew after the reset point (a server crashed during a storage
    // outage and handed those ids out again): the page opens the conversation afresh, from the latest page, rather
    // than patch lines that may hold grouped answers, edits and lost runs across the point.
    c.on('reset', () => {
      if (client === c) open(conversationId, currentTitle);
    });
    c.on('closed', (e) => {
      if (client !== c || leaving === c) return;
      if (e.code === 4001 && token) return tokenRefused(e.reason);
      if (removedByWho !== undefined) return removedFrom(conversationId, removedByWho, e.reason);
      setConnectionState('closed', '', e.reason);
      showError(closedSentence(e), e.reason);
    });
    // After the listeners above: records are drawn and names known before it looks at them.
    readState = wireReadState({
      client: c,
      scroller: el('scroller'),
      seenBy,
      markedRead: (sequenceId) => conversations.markedRead(conversationId, sequenceId),
    });
    sender.sendKept(c);
    updatePending();
    c.connect().catch(() => undefined);
  }

  /**
   * The owner removed this user: the page says who and stops (the socket is closed and not reopened); the
   * conversation leaves the list as after a leave, and what was waiting to be sent there is dropped with it.
   */
  function removedFrom(conversationId: string, by: string, reason: string): void {
    setConnectionState('closed', '', reason);
    showError(removedSentence(people.nameOf(by)), reason);
    el('leave').classList.add('hidden');
    el('add-member-form').classList.add('hidden');
    conversations.markLeft(conversationId);
    openUnsentStore(keptFor, conversationId).clear();
  }

  el('join-button').addEventListener('click', () => void joinOffered());
  wireAddMember(api, () => current);
  el('leave').addEventListener('click', () => void leaveCurrent());
  wireNarrowPanels();
  el('retry').addEventListener('click', () => client?.reconnectNow());
  el('load-earlier').addEventListener('click', () => void pager?.loadEarlier());
  el('older-conversations').addEventListener('click', () => void conversationReads.showOlder());
  // Scrolled to the top: the earlier page comes without a click, as in other chat apps.
  el('scroller').addEventListener('scroll', () => {
    if (el('scroller').scrollTop < NEAR_TOP_PX) void pager?.loadEarlier();
  });
  // The network is back: no reason to sit out the rest of a backoff.
  window.addEventListener('online', () => client?.reconnectNow());
  // Unsent messages (waiting for the server, or refused) are kept in this browser, but go out only when this
  // conversation is open here again, maybe much later: leaving asks first.
  window.addEventListener('beforeunload', (ev) => {
    if ((client?.pendingCount ?? 0) + view.refusedCount === 0) return;
    ev.preventDefault();
    ev.returnValue = '';
  });
  wireShareCopy();

  /** The error line says the last message was too long (and goes once one is sent). */
  let lengthRefused = false;
  el<HTMLFormElement>('send-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = el<HTMLInputElement>('input');
    const text = input.value.trim();
    if (!text || !client) return;
    // Refused here, the text still in the input to shorten: sent, it would be refused, and past the frame limit the
    // server closes the socket (1009), which ends this page's connection.
    const maxLength = readMaxMessageLength(document);
    if (maxLength !== undefined && text.length > maxLength) {
      const count = (n: number): string => n.toLocaleString('en-US');
      lengthRefused = true;
      return showError(
        `This message is ${count(text.length)} characters long; at most ${count(maxLength)} fit in one message. Shorten or split it.`,
      );
    }
    if (lengthRefused) showError('');
    lengthRefused = false;
    input.value = '';
    client.setTyping(false);
    // Shown at once, before the server has it: the input is cleared, so the text must be visible somewhere.
    sender.send(client, text);
  });
  el<HTMLInputElement>('input').addEventListener('input', () => typingAnnouncer.typed());

  wireCreateForm(api, async (created) => {
    conversations.setOpen(created.conversation_id, created.title);
    await listRefresh.now();
    open(created.conversation_id, created.title);
  });

  const listRefresh = createListRefresh({
    fetchList: () => conversationReads.refresh(),
    isVisible: () => !refused && document.visibilityState === 'visible',
    now: () => Date.now(),
    setTimer: (fn, ms) => setTimeout(fn, ms),
    clearTimer: (timer) => clearTimeout(timer as ReturnType<typeof setTimeout>),
  });
  window.addEventListener('focus', () => listRefresh.whenStale());
  document.addEventListener('visibilitychange', () => listRefresh.whenStale());

  void listRefresh.now().then(() => {
    const wanted = params.get('conversation');
    if (wanted) void openChecked(wanted);
  });
}

if (typeof document !== 'undefined') {
  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
}
