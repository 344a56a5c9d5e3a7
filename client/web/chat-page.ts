/**
 * The browser chat page's logic (client/web/chat.html), on top of the reference client.
 * Identity: the server says its auth mode in the page (page-settings.ts). In jwt mode the page asks for a token
 * and keeps it in sessionStorage (page-auth.ts; a `?token=` in the URL is moved there); in dev mode it asks for a
 * user id, kept in the URL (?user_id=alice).
 * Only textContent is used for anything a user typed, so messages can never inject markup.
 * Own messages not yet acknowledged are kept in localStorage (unsent-store.ts) until their message_ack: a reload or
 * a switch to another conversation shows them again and sends them again, with the same message_id.
 */
import { createChatClient, type ChatClient, type ChatClientError } from '../chat-client';
import { defaultGenerateId } from '../client-platform';
import type { ChatMessage, Participant } from '../protocol-frames';
import { closedSentence, humanSentence } from './human-errors';
import { createConversationList, type ConversationMeta } from './conversation-list';
import { createHistoryPager, HISTORY_PAGE_SIZE, type HistoryPage, type HistoryPager, type PageResult } from './history-pager';
import { createListRefresh } from './list-refresh';
import { createMessageView } from './message-view';
import { takeToken, TOKEN_KEY, tokenSubject } from './page-auth';
import { readAuthMode, readMaxRetries } from './page-settings';
import { canSendAgain } from './send-again';
import { createUnsentStore, keepNothing, unsentKey, type UnsentMessage, type UnsentStore } from './unsent-store';

/** A scroll this close to the top of the messages loads the earlier page. */
const NEAR_TOP_PX = 40;
/** How long another member's typing indicator shows after their last `typing: true` (their page may have closed). */
const TYPING_SHOWN_MS = 5000;
/** How often a page that keeps typing says so again: well inside TYPING_SHOWN_MS, within the typing budget (2/s). */
const TYPING_REFRESH_MS = 3000;

function el<T extends HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`chat page: #${id} is missing`);
  return node as T;
}

/**
 * The link to send someone for a conversation: this page with `?conversation=` and nothing else. Never the
 * sender's identity (`user_id`, or a `token` that would let the recipient act as the sender): whoever opens
 * it signs in as themselves.
 */
function shareableLink(conversationId: string): string {
  const link = new URL(location.pathname, location.origin);
  link.searchParams.set('conversation', conversationId);
  return link.href;
}

/** The error body of the HTTP API (docs/http-api.md): `error` is the code. */
interface ApiErrorBody {
  readonly error?: string;
  readonly message?: string;
}

/** Asks for a token (jwt mode), saying why when one was just refused; the page starts again with it. */
function askForToken(problem = '', detail = ''): void {
  el('sidebar').classList.add('hidden');
  el('main').classList.add('hidden');
  el('signin-token-problem').textContent = problem;
  el('signin-token-problem').title = detail;
  const form = el<HTMLFormElement>('signin-token');
  form.classList.remove('hidden');
  form.onsubmit = (ev) => {
    ev.preventDefault();
    sessionStorage.setItem(TOKEN_KEY, el<HTMLInputElement>('signin-token-value').value.trim());
    location.reload();
  };
}

/** Asks for a user id (dev mode); it goes into the URL, next to the conversation wanted. */
function askForUserId(params: URLSearchParams): void {
  const form = el<HTMLFormElement>('signin');
  form.classList.remove('hidden');
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    params.set('user_id', el<HTMLInputElement>('signin-user').value.trim());
    location.search = params.toString();
  });
}

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
  const signedInAs = (id: string | undefined): string =>
    userId ? `signed in as ${userId} (dev)` : id ? `signed in as ${id}` : 'signed in with a token';
  el('me').textContent = signedInAs(token ? tokenSubject(token) : undefined);
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

  const api = (pathname: string, init: RequestInit = {}): Promise<Response> => {
    const url = new URL(pathname, location.origin);
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    else if (userId) url.searchParams.set('user_id', userId);
    return fetch(url, { ...init, headers }).then((res) => {
      if (res.status === 401 && token) tokenRefused(`GATEWAY_ERR_UNAUTHENTICATED: ${pathname} answered 401`);
      return res;
    });
  };

  let client: ChatClient | undefined;
  let current: string | undefined;
  /** The conversation the join offer is for (a link opened by a non-member). */
  let offered: string | undefined;
  let typingTimer: ReturnType<typeof setTimeout> | undefined;
  /** When this page last said `typing: true` (Date.now()), to say it again before the others' indicator expires. */
  let typingSaidAt = 0;
  const typingNow = new Map<string, ReturnType<typeof setTimeout>>();
  const names = new Map<string, string>();
  /** Who this page acts as: the dev user id, or (with a token) the participant id the server named. */
  let me = userId ?? (token ? tokenSubject(token) : undefined);
  /** Whose unsent messages this page keeps: known before any socket, so a reload finds them (none: nothing kept). */
  const keptFor = me;
  const unsentFor = (conversationId: string): UnsentStore => {
    if (keptFor === undefined) return keepNothing();
    try {
      return createUnsentStore(localStorage, unsentKey(location.origin, keptFor, conversationId));
    } catch {
      return keepNothing(); // storage disabled: reading localStorage itself throws
    }
  };
  /** The open conversation's unsent messages. */
  let unsent = keepNothing();
  /** The id the client gives the message being sent now (generateId), so its pending line can be matched. */
  let sendingId: string | undefined;
  /** The open conversation's history (history-pager.ts); its identity also tells an open still in progress. */
  let pager: HistoryPager | undefined;
  const view = createMessageView({
    list: el<HTMLUListElement>('messages'),
    scroller: el('scroller'),
    nameOf: (id) => names.get(id) ?? id,
    me: () => me,
    restore(text) {
      const input = el<HTMLInputElement>('input');
      input.value = text;
      input.focus();
    },
    forget: (messageId) => unsent.remove(messageId),
  });

  /** A sentence for people; `detail` (codes, the server's words) goes to the tooltip. */
  const showError = (text: string, detail = ''): void => {
    el('errors').textContent = text;
    el('errors').title = detail;
  };
  /** An HTTP API refusal: what failed, then the sentence for its code. */
  const showApiError = (what: string, status: number, body: ApiErrorBody): void =>
    showError(`${what} ${humanSentence(body.error)}`, `${body.error ?? status}: ${body.message ?? ''}`);

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

  async function refreshList(): Promise<void> {
    // The 200 most recently active (the server's largest page), most recent first: a list, not an archive.
    const res = await api('/chat/conversations?limit=200');
    if (!res.ok)
      return showApiError('Could not list your conversations.', res.status, (await res.json().catch(() => ({}))) as ApiErrorBody);
    conversations.show(((await res.json()) as { conversations: ConversationMeta[] }).conversations);
  }

  /** Humans get "online" / "offline" in text (the dot before it is only decoration); agents their AI badge. */
  function renderParticipants(participants: readonly Participant[], online: readonly string[]): void {
    for (const p of participants) names.set(p.participant_id, p.display_name || p.participant_id);
    const isOnline = new Set(online);
    el('participant-list').replaceChildren(
      ...participants.map((p) => {
        const li = document.createElement('li');
        li.dataset['id'] = p.participant_id;
        li.textContent = `${p.display_name || p.participant_id}${p.participant_id === me ? ' (you)' : ''}`;
        const tag = document.createElement('span');
        tag.className = p.participant_type === 'ai' ? 'badge' : 'presence';
        tag.textContent = p.participant_type === 'ai' ? 'AI' : isOnline.has(p.participant_id) ? 'online' : 'offline';
        if (p.participant_type === 'human') tag.dataset['online'] = String(isOnline.has(p.participant_id));
        li.append(' ', tag);
        return li;
      }),
    );
  }

  function renderTyping(): void {
    const who = [...typingNow.keys()].map((id) => names.get(id) ?? id);
    el('typing').textContent = who.length === 0 ? '' : `${who.join(', ')} ${who.length === 1 ? 'is' : 'are'} typing…`;
  }

  function renderMessage(m: ChatMessage): void {
    view.add(m);
    // The sender has stopped typing once its message arrives.
    const t = typingNow.get(m.sender_id);
    if (t !== undefined) {
      clearTimeout(t);
      typingNow.delete(m.sender_id);
      renderTyping();
    }
  }

  /**
   * The badge says the state in words (details in its tooltip). While reconnecting it offers "retry now": a wait
   * grows to 30 s, and the user often knows better (the wifi is back) than the backoff does.
   */
  function setState(state: string, detail = '', tooltip = ''): void {
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

  function updatePending(): void {
    const n = client?.pendingCount ?? 0;
    el('pending').textContent = n > 0 ? `${n} unconfirmed` : '';
  }

  /** Nothing open: no socket, no link to share, no join offer. */
  function closeCurrent(): void {
    pager?.close();
    pager = undefined;
    client?.close();
    client = undefined;
    current = undefined;
    // Its unsent messages stay kept: opening it again shows and sends them.
    unsent = keepNothing();
    conversations.setOpen(undefined);
    setState('idle');
    el('share').classList.add('hidden');
    el('leave').classList.add('hidden');
    el('join-offer').classList.add('hidden');
    offered = undefined;
  }

  /**
   * Leave, after asking: everyone in the conversation sees it, and its messages are gone from this user's view.
   * Over the open socket (client.leave()); without one, over HTTP, which also closes any other socket of this user.
   */
  async function leaveCurrent(): Promise<void> {
    const c = client;
    const conversationId = current;
    if (!c || conversationId === undefined) return;
    const question = `Leave “${el('title').textContent ?? conversationId}”? You will no longer see its messages, and everyone in it will see that you left.`;
    if (!window.confirm(question)) return;
    client = undefined; // its `closed` event is expected now, not an error to show
    if (c.state === 'open') c.leave();
    else {
      c.close();
      const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}/leave`, { method: 'POST' });
      if (!res.ok)
        return showApiError('Could not leave the conversation.', res.status, (await res.json().catch(() => ({}))) as ApiErrorBody);
    }
    conversations.markLeft(conversationId);
    // Nothing more can be sent there: what was waiting goes with the membership.
    unsentFor(conversationId).clear();
    closeCurrent();
    el('title').textContent = 'Pick or create a conversation';
    view.clear();
    el('participant-list').replaceChildren();
    const url = new URL(location.href);
    url.searchParams.delete('conversation');
    history.replaceState(null, '', url);
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
    if (!res.ok) return showApiError(`Could not open ${conversationId}.`, res.status, body);
    open(conversationId, body.title ?? conversationId);
  }

  function offerToJoin(conversationId: string): void {
    closeCurrent();
    offered = conversationId;
    el('title').textContent = conversationId;
    view.clear();
    el('participant-list').replaceChildren();
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
    conversations.setOpen(conversationId, title);
    el('title').textContent = conversations.labelOf(conversationId, title);
    el<HTMLInputElement>('share-link').value = shareableLink(conversationId);
    el('share-copy').textContent = 'Copy link';
    el('share').classList.remove('hidden');
    el('leave').classList.remove('hidden');
    view.clear();
    unsent = unsentFor(conversationId);
    // What this user wrote here and the server has not acknowledged: shown at once, sent once connected.
    for (const m of unsent.list()) {
      view.addPending(m.message_id, m.content);
      if (m.refused) showRefused(m, m.refused.code, m.refused.message);
    }
    el('participant-list').replaceChildren();
    typingNow.clear();
    renderTyping();
    showError('');
    const p = createHistoryPager({
      fetchPage: (before) => fetchHistory(conversationId, before),
      view,
      controls: { scroller: el('scroller'), box: el('history'), button: el<HTMLButtonElement>('load-earlier'), note: el('history-note') },
      failed: (refusal) => showApiError('Could not load earlier messages.', refusal.status, refusal.body),
    });
    pager = p;
    setState('connecting');
    const url = new URL(location.href);
    url.searchParams.set('conversation', conversationId);
    history.replaceState(null, '', url);
    // The socket starts once the latest page is shown, resuming after its last id: what was posted since the
    // page was read comes over the socket, once, and nothing the page shows is sent again.
    void p.openLatest().then((resumeAfter) => {
      if (pager === p) connect(conversationId, resumeAfter ?? 0);
    });
  }

  /** The page of records before `before` (history-pager.ts); a failure is an answer too, never a rejection. */
  async function fetchHistory(conversationId: string, before: number): Promise<PageResult> {
    try {
      const res = await api(
        `/chat/conversations/${encodeURIComponent(conversationId)}/messages?before=${before}&limit=${HISTORY_PAGE_SIZE}`,
      );
      const body = (await res.json().catch(() => ({}))) as HistoryPage & ApiErrorBody;
      return res.ok ? { page: body } : { status: res.status, body };
    } catch (err) {
      return { status: 0, body: { error: 'CLIENT_CONNECT_FAILED', message: String(err) } };
    }
  }

  /** The conversation's socket, resuming after `lastSequenceId` (0: from the start). */
  function connect(conversationId: string, lastSequenceId: number): void {
    const c = createChatClient({
      url: location.origin,
      conversationId,
      // A chat page keeps trying (at most every 30 s) unless the server set a limit: giving up lost what was typed.
      maxRetries: readMaxRetries(document) ?? Infinity,
      ...(token ? { token } : {}),
      ...(userId && !token ? { userId } : {}),
      generateId: () => sendingId ?? defaultGenerateId(),
      lastSequenceId,
    });
    client = c;
    c.on('connected', (info) => {
      me = info.participantId;
      el('me').textContent = signedInAs(me);
      setState('open');
    });
    c.on('message', renderMessage);
    c.on('participants', (e) => renderParticipants(e.participants, c.online));
    c.on('participants', (e) => conversations.noteMembers(conversationId, e.participants));
    c.on('presence', () => renderParticipants(c.participants, c.online));
    c.on('typing', (e) => {
      const old = typingNow.get(e.participantId);
      if (old !== undefined) clearTimeout(old);
      if (e.isTyping)
        typingNow.set(
          e.participantId,
          setTimeout(() => (typingNow.delete(e.participantId), renderTyping()), TYPING_SHOWN_MS),
        );
      else typingNow.delete(e.participantId);
      renderTyping();
    });
    c.on('error', (e) => {
      // 429s (rate limit, full mailbox) are the client's to handle: it waits and sends again.
      // A refusal of one of our messages is said on that message (send() rejects with it).
      if (e.status !== 429 && e.messageId === undefined) showError(humanSentence(e.code), `${e.code}: ${e.message}`);
    });
    c.on('ack', updatePending);
    c.on('reconnecting', (e) => {
      setState('reconnecting', '', `attempt ${e.attempt}, next in ${Math.round(e.delayMs / 100) / 10} s`);
      el('state').dataset['attempt'] = String(e.attempt);
    });
    c.on('closed', (e) => {
      if (client !== c) return;
      if (e.code === 4001 && token) return tokenRefused(e.reason);
      setState('closed', '', e.reason);
      showError(closedSentence(e), e.reason);
    });
    // Kept messages go first, in the order written; the client sends them once connected.
    const kept = unsent;
    for (const m of kept.list()) if (!m.refused) dispatch(c, kept, m);
    updatePending();
    c.connect().catch(() => undefined);
  }

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
        if (ack.duplicate && client === c) view.dropPending(m.message_id);
        updatePending();
      },
      (err: ChatClientError) => {
        if (err.messageId !== undefined) store.put({ ...m, refused: { code: err.code, message: err.message } });
        if (client === c) showRefused(m, err.code, err.message);
        updatePending();
      },
    );
  }

  /** Marks `m` refused, with "send again" where a retry may succeed (send-again.ts). */
  function showRefused(m: UnsentMessage, code: string, message: string): void {
    view.markRefused(m.message_id, {
      sentence: humanSentence(code),
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
    if (client && client.state !== 'closed') dispatch(client, unsent, fresh);
    // The client has ended (it gave up, or the server closed for good): opening again sends what is kept.
    else if (current !== undefined) void openChecked(current);
    updatePending();
  }

  el('join-button').addEventListener('click', () => void joinOffered());
  el('leave').addEventListener('click', () => void leaveCurrent());
  // Narrow screens (chat.html, under 700 px): the side columns open over the messages, one at a time.
  const panels = { list: el('toggle-list'), people: el('toggle-people') };
  const showPanel = (which: keyof typeof panels | undefined): void => {
    for (const [name, button] of Object.entries(panels)) {
      const open = name === which && !document.body.classList.contains(`${name}-open`);
      document.body.classList.toggle(`${name}-open`, open);
      button.setAttribute('aria-expanded', String(open));
    }
  };
  panels.list.addEventListener('click', () => showPanel('list'));
  panels.people.addEventListener('click', () => showPanel('people'));
  el('conversations').addEventListener('click', () => showPanel(undefined));
  el('backdrop').addEventListener('click', () => showPanel(undefined));
  document.addEventListener('keydown', (ev) => {
    if (ev.key === 'Escape') showPanel(undefined);
  });
  el('retry').addEventListener('click', () => client?.reconnectNow());
  el('load-earlier').addEventListener('click', () => void pager?.loadEarlier());
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

  el('share-copy').addEventListener('click', () => {
    const input = el<HTMLInputElement>('share-link');
    input.select();
    // The clipboard needs a secure context (https or loopback); elsewhere the selected link is copied by hand.
    navigator.clipboard?.writeText(input.value).then(
      () => (el('share-copy').textContent = 'Copied'),
      () => undefined,
    );
  });

  el<HTMLFormElement>('send-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const input = el<HTMLInputElement>('input');
    const text = input.value.trim();
    if (!text || !client) return;
    input.value = '';
    client.setTyping(false);
    // Shown at once, before the server has it: the input is cleared, so the text must be visible somewhere.
    const m: UnsentMessage = { message_id: defaultGenerateId(), content: text };
    view.addPending(m.message_id, text);
    unsent.put(m);
    dispatch(client, unsent, m);
    updatePending();
  });

  el<HTMLInputElement>('input').addEventListener('input', () => {
    if (!client) return;
    // Said again while the typing goes on: the other pages drop an indicator TYPING_SHOWN_MS after the last `true`.
    if (typingTimer === undefined || Date.now() - typingSaidAt >= TYPING_REFRESH_MS) {
      client.setTyping(true);
      typingSaidAt = Date.now();
    }
    if (typingTimer !== undefined) clearTimeout(typingTimer);
    typingTimer = setTimeout(() => {
      typingTimer = undefined;
      client?.setTyping(false);
    }, 2000);
  });

  el<HTMLFormElement>('create-form').addEventListener('submit', (ev) => {
    ev.preventDefault();
    const split = (id: string): string[] =>
      el<HTMLInputElement>(id)
        .value.split(',')
        .map((s) => s.trim())
        .filter(Boolean);
    const title = el<HTMLInputElement>('create-title').value.trim();
    const body = {
      ...(title ? { title } : {}),
      participants: split('create-humans').map((participant_id) => ({ participant_id, participant_type: 'human' })),
      agents: split('create-agents'),
      auto_join_agents: el<HTMLInputElement>('create-autojoin').checked,
    };
    void (async () => {
      const res = await api('/chat/conversations', {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = (await res.json()) as ConversationMeta & { message?: string };
      if (!res.ok) return showApiError('Could not create the conversation.', res.status, json as ApiErrorBody);
      el<HTMLFormElement>('create-form').reset();
      conversations.setOpen(json.conversation_id, json.title);
      await listRefresh.now();
      open(json.conversation_id, json.title);
    })();
  });

  const listRefresh = createListRefresh({
    fetchList: refreshList,
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
