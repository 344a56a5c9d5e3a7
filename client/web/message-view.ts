/**
 * The chat page's list of messages: sequenced records in order, the pieces of one AI answer in one bubble that
 * grows as they arrive, and this user's own messages from the moment they are sent ("sending…" until their
 * record arrives; "not sent: <why>" if refused, with the text to take back, and "send again" where that may work), and an
 * agent's "is answering" line until the record that ends its job (then hidden). Text only ever goes in as text
 * nodes and links as elements with a checked href (message-links.ts), so no message can put markup in the page.
 */
import type { ChatMessage } from '../protocol-frames';
import { humanSentence } from './human-errors';
import { itemNames, splitLinks } from './message-links';
import { membershipLine } from './membership-lines';

export interface MessageViewDeps {
  readonly list: HTMLUListElement;
  /** The element that scrolls the list (the list and what is above it). */
  readonly scroller: HTMLElement;
  /** Display name of a participant. */
  nameOf(participantId: string): string;
  /** This page's user, once known. */
  me(): string | undefined;
  /** A refused message's text, back in the send box. */
  restore(text: string): void;
  /** The user discarded a refused message or took its text back: it is no longer this page's to send. */
  forget(messageId: string): void;
  /** The user asked to edit its own message `messageId`, now showing `text` (chat-page.ts asks for the new text). */
  editOwn(messageId: string, text: string): void;
  /** The user asked to delete its own message `messageId`. */
  deleteOwn(messageId: string): void;
}

/** How a refusal reads on its message, and what the user may do about it. */
export interface Refusal {
  /** For people ("not sent: <sentence>"). */
  readonly sentence: string;
  /** Codes and the server's words, for the tooltip. */
  readonly detail: string;
  /** Offered as "send again" when a retry may succeed; absent, only "edit" and "discard" are. */
  readonly sendAgain?: () => void;
}

export interface MessageView {
  /** A sequenced record (in sequence order). */
  add(m: ChatMessage): void;
  /**
   * Older records (oldest first, all older than any shown), above the rest, as if they had been added first.
   * The scroll position is the caller's to keep (history-pager.ts, which also changes what is above the list).
   */
  prepend(messages: readonly ChatMessage[]): void;
  /** An own message on its way: shown at once, below every record, until its record arrives. */
  addPending(messageId: string, text: string): void;
  /** The server (or the client, closed) refused it: it stays, marked, its text restorable. */
  markRefused(messageId: string, refusal: Refusal): void;
  /** A refused message goes again: "sending…" once more. */
  markSending(messageId: string): void;
  /** An own message on its way that is shown already (its record was read earlier): the pending line goes. */
  dropPending(messageId: string): void;
  /**
   * Names learnt (a member list arrived): every line shown says its sender's display name. The latest history page
   * is shown before the socket brings the member list, so those lines were named by id until now.
   */
  renameSenders(): void;
  /** Refused messages still shown (their text is only here). */
  readonly refusedCount: number;
  clear(): void;
}

/**
 * The messages are scrolled to their end (within 20 px): a new record keeps the view there, and the user has seen
 * everything shown (read-marker.ts). Also true when the messages do not fill the scroller.
 */
export function isScrolledToBottom(scroller: HTMLElement): boolean {
  return scroller.scrollTop + scroller.clientHeight >= scroller.scrollHeight - 20;
}

/** Joins, leaves, mode changes and agent job notices render as one grey line. */
function isSystemLine(m: ChatMessage): boolean {
  return (
    m.sender_type === 'system' ||
    ['join', 'leave', 'mode_change', 'error'].includes(m.message_type) ||
    m.message_type.startsWith('agent_job')
  );
}

/** The pieces of one answer share this key: the job that made them (or, from other AIs, the message answered). */
function answerKey(m: ChatMessage): string | undefined {
  if (m.sender_type !== 'ai') return undefined;
  const job = m.metadata['job_id'] ?? m.metadata['in_reply_to'];
  return typeof job === 'string' && job !== '' ? `${m.sender_id}\u0000${job}` : undefined;
}

/**
 * An empty AI piece only marks its answer complete, and an `edit` record only changes a message shown above (its
 * content is that message's new text, applied there): nothing to show of either.
 */
const invisible = (m: ChatMessage): boolean => (m.sender_type === 'ai' && m.content === '') || isEditRecord(m);

const isEditRecord = (m: ChatMessage): boolean => m.sender_type === 'system' && m.message_type === 'edit';

/** The records that end an agent job without being an answer's piece (docs/protocol.md, Agent jobs). */
const JOB_END_TYPES: ReadonlySet<string> = new Set(['agent_job_finished', 'agent_job_failed', 'agent_job_cancelled']);

/**
 * The job whose "is answering" line `m` ends: an AI record marked complete (often an empty, invisible one) or the
 * job's finished / failed / cancelled record, each naming the job in `metadata.job_id`.
 */
function endedJob(m: ChatMessage): string | undefined {
  const job = m.metadata['job_id'];
  if (typeof job !== 'string') return undefined;
  const ends = (m.sender_type === 'ai' && m.metadata['complete'] === true) || JOB_END_TYPES.has(m.message_type);
  return ends ? job : undefined;
}

/**
 * What the agent's service said about having no answer (`metadata.reason_text` of an `agent_job_finished` record or
 * of an agent's no-answer note; docs/nlweb.md): the stand-in's says what it knows and what to try.
 */
function noAnswerSaid(m: ChatMessage): string | undefined {
  const said = m.metadata['reason_text'];
  const noAnswer = m.message_type === 'agent_job_finished' || (m.sender_type === 'ai' && m.metadata['no_answer'] !== undefined);
  return noAnswer && typeof said === 'string' && said !== '' ? said : undefined;
}

/** The job an `agent_job_started` record ("NLWeb is answering") starts. */
function startedJob(m: ChatMessage): string | undefined {
  const job = m.metadata['job_id'];
  return m.message_type === 'agent_job_started' && typeof job === 'string' ? job : undefined;
}

/** The user's own text messages, not deleted, offer edit and delete (docs/client.md, In a browser). */
const changeable = (m: ChatMessage, me: string | undefined): boolean =>
  m.sender_type === 'human' && m.sender_id === me && m.message_type === 'text' && m.metadata['redacted'] !== true;

/**
 * A crash leaves a run of 'lost' ids, shown as one line: `line` (a lost line) now runs up to `to`. Most of such a run
 * was reserved ahead and never used (docs/conversations.md): the line says ids may be missing, not that messages were.
 */
function extendLost(line: HTMLLIElement, to: number): void {
  line.dataset['seq'] = String(to);
  line.textContent = `ids ${line.dataset['lostFrom']}–${to} were skipped after a server stopped abruptly: a message sent just before may be missing`;
}

export function createMessageView(deps: MessageViewDeps): MessageView {
  const { list, scroller } = deps;
  const doc = list.ownerDocument;
  /** Bubbles of answers, by answerKey, so later pieces join them. */
  const answers = new Map<string, HTMLElement>();
  /** The last record's line (pending lines come after it). */
  let lastRecord: HTMLLIElement | undefined;
  /** "… is answering" lines shown, by job, until the record that ends their job hides them. */
  const answering = new Map<string, HTMLLIElement>();
  /** Jobs whose end was shown: their "is answering" line, if an older page brings it, comes hidden. */
  const endedJobs = new Set<string>();

  /**
   * The answer of `m`'s job is complete, or the job failed or was cancelled: its "is answering" line goes. It stays in
   * the list, hidden, so the lines around it keep their places (the pending lines and an older page go next to it).
   */
  function noteJobEnd(m: ChatMessage): void {
    const job = endedJob(m);
    if (job === undefined) return;
    endedJobs.add(job);
    const shown = answering.get(job);
    if (shown) shown.hidden = true;
    answering.delete(job);
  }

  const div = (className: string, text?: string): HTMLDivElement => {
    const node = doc.createElement('div');
    node.className = className;
    if (text !== undefined) node.textContent = text;
    return node;
  };

  /** One record's text; an AI's `<https://...>` links as links, named by the items its metadata lists. */
  function piece(m: ChatMessage): HTMLDivElement {
    const node = div('piece');
    node.dataset['seq'] = String(m.sequence_id);
    if (m.sender_type !== 'ai') node.textContent = m.content;
    else
      for (const run of splitLinks(m.content, itemNames(m.metadata))) {
        if (!('href' in run)) {
          node.append(run.text);
          continue;
        }
        const a = doc.createElement('a');
        a.href = run.href;
        a.textContent = run.text;
        if (run.title !== undefined) a.title = run.title;
        a.rel = 'noopener noreferrer';
        a.target = '_blank';
        node.append(a);
      }
    const said = noAnswerSaid(m);
    if (said !== undefined) node.append(`. ${said}`);
    return node;
  }

  /**
   * A message line: the sender, then its text. An answer's text holds its pieces; anyone else's message is one
   * piece, which is the text itself.
   */
  function bubble(className: string, senderId: string, first: HTMLElement, grows: boolean): HTMLLIElement {
    const li = doc.createElement('li');
    li.className = className;
    let body = first;
    if (grows) {
      body = div('text');
      body.append(first);
    } else first.classList.add('text');
    const who = div('who', deps.nameOf(senderId));
    who.dataset['sender'] = senderId;
    li.append(who, body);
    return li;
  }

  const button = (className: string, text: string, onClick: () => void): HTMLButtonElement => {
    const node = doc.createElement('button');
    node.type = 'button';
    node.className = className;
    node.textContent = text;
    node.addEventListener('click', onClick);
    return node;
  };

  const atBottom = (): boolean => isScrolledToBottom(scroller);

  /** Keeps the view at the bottom if it was there. */
  function place(li: HTMLLIElement, before: Node | null): void {
    const stick = atBottom();
    list.insertBefore(li, before);
    if (stick) scroller.scrollTop = scroller.scrollHeight;
  }

  function applyRedaction(m: ChatMessage): void {
    const ids = m.metadata['redacted_sequence_ids'];
    if (!Array.isArray(ids)) return;
    for (const seq of ids) {
      const node = list.querySelector(`.piece[data-seq="${Number(seq)}"]`);
      if (!node) continue;
      node.textContent = '[redacted]';
      // A deleted message can be neither edited nor deleted again, and "(edited)" says nothing any more.
      const li = node.closest('li');
      li?.querySelector('.own-actions')?.remove();
      li?.querySelector('.edited-mark')?.remove();
    }
  }

  /** An `edit` record: the message it names shows the new text, marked edited. */
  function applyEdit(m: ChatMessage): void {
    const seq = m.metadata['edited_sequence_id'];
    if (typeof seq !== 'number') return;
    const node = list.querySelector(`.piece[data-seq="${seq}"]`);
    const li = node?.closest('li');
    if (!node || !li) return;
    node.textContent = m.content;
    markEdited(li);
  }

  function markEdited(li: HTMLLIElement): void {
    // Right under the text, above the buttons and "Seen by" (which seen-by.ts appends later).
    if (!li.querySelector('.edited-mark')) li.querySelector('.text')?.after(div('edited-mark', '(edited)'));
  }

  /** The edit and delete buttons of an own message's line. */
  function ownActions(li: HTMLLIElement, m: ChatMessage): void {
    const actions = div('own-actions');
    const text = (): string => li.querySelector('.piece')?.textContent ?? '';
    actions.append(
      button('edit-own', 'edit', () => deps.editOwn(m.message_id, text())),
      ' ',
      button('delete-own', 'delete', () => deps.deleteOwn(m.message_id)),
    );
    li.append(actions);
  }

  function systemLine(m: ChatMessage): HTMLLIElement {
    const li = doc.createElement('li');
    li.className = 'system';
    // A join or leave someone else made says who (added_by / removed_by).
    li.textContent = membershipLine(m, deps.nameOf);
    // "NLWeb has no answer (no results)", then what NLWeb said about it (as text, like every line).
    const said = noAnswerSaid(m);
    if (said !== undefined) li.textContent += `. ${said}`;
    const code = m.metadata['code'];
    // An agent's failure in words; what it said (e.g. "ECONNREFUSED") is for whoever debugs.
    if (m.message_type === 'agent_job_failed' && typeof code === 'string') {
      const agent = String(m.metadata['participant_id'] ?? m.sender_id);
      li.textContent = `${deps.nameOf(agent)} could not answer. ${humanSentence(code)}`;
      li.title = `${code}: ${m.content}`;
    }
    return li;
  }

  /** The line a record starts (a system line or a bubble); an answer's bubble goes into `answersByKey`. */
  function line(m: ChatMessage, key: string | undefined, answersByKey: Map<string, HTMLElement>): HTMLLIElement {
    let li: HTMLLIElement;
    if (isSystemLine(m)) li = systemLine(m);
    else {
      const mine = m.sender_type !== 'ai' && m.sender_id === deps.me();
      li = bubble(m.sender_type === 'ai' ? 'ai' : mine ? 'mine' : 'other', m.sender_id, piece(m), key !== undefined);
      if (key !== undefined) answersByKey.set(key, li.querySelector<HTMLElement>('.text')!);
      if (m.metadata['edited'] === true && m.metadata['redacted'] !== true) markEdited(li);
      if (changeable(m, deps.me())) ownActions(li, m);
    }
    if (m.message_type === 'lost') li.dataset['lostFrom'] = String(m.sequence_id);
    li.dataset['seq'] = String(m.sequence_id);
    const job = startedJob(m);
    if (job !== undefined) {
      if (endedJobs.has(job)) li.hidden = true;
      else answering.set(job, li);
    }
    return li;
  }

  const pendingLine = (messageId: string): HTMLLIElement | null =>
    list.querySelector<HTMLLIElement>(`li[data-message-id="${CSS.escape(messageId)}"]`);

  /** Own messages whose record is in `messages`: their pending lines give way (a re-send after a reload). */
  function dropPendingOf(messages: readonly ChatMessage[]): void {
    const me = deps.me();
    for (const m of messages) if (m.sender_id === me) pendingLine(m.message_id)?.remove();
  }

  return {
    add(m) {
      noteJobEnd(m);
      if (isEditRecord(m)) return applyEdit(m);
      if (invisible(m)) return;
      if (m.message_type === 'redaction') applyRedaction(m);
      if (m.message_type === 'lost' && lastRecord?.dataset['lostFrom']) return extendLost(lastRecord, m.sequence_id);
      const key = answerKey(m);
      const growing = key === undefined ? undefined : answers.get(key);
      if (growing) {
        const stick = atBottom();
        growing.append(piece(m));
        if (stick) scroller.scrollTop = scroller.scrollHeight;
        return;
      }
      const own = m.sender_id === deps.me() ? pendingLine(m.message_id) : null;
      const li = line(m, key, answers);
      // Records go above the pending lines; a pending line gives way to its own record.
      own?.remove();
      place(li, lastRecord ? lastRecord.nextSibling : list.firstChild);
      lastRecord = li;
    },
    prepend(messages) {
      // The older records are laid out as add() would, with their own answers; they go above everything shown.
      dropPendingOf(messages);
      const older = new Map<string, HTMLElement>();
      const lines = doc.createDocumentFragment();
      let last: HTMLLIElement | undefined;
      // No redaction is applied here: the records a redaction names are older than it, and stored redacted already.
      for (const m of messages) {
        noteJobEnd(m);
        if (invisible(m)) continue;
        if (m.message_type === 'lost' && last?.dataset['lostFrom']) {
          extendLost(last, m.sequence_id);
          continue;
        }
        const key = answerKey(m);
        const growing = key === undefined ? undefined : older.get(key);
        if (growing) growing.append(piece(m));
        else lines.append((last = line(m, key, older)));
      }
      // An answer begun above and continued below is one bubble, where its first piece is (as add() would have it).
      for (const [key, text] of older) {
        const below = answers.get(key);
        if (below) {
          text.append(...Array.from(below.childNodes));
          below.closest('li')?.remove();
        }
        answers.set(key, text);
      }
      // So is a run of lost ids across the page boundary.
      const first = list.querySelector<HTMLLIElement>(':scope > li[data-seq]');
      if (
        last?.dataset['lostFrom'] &&
        first?.dataset['lostFrom'] &&
        Number(first.dataset['lostFrom']) === Number(last.dataset['seq']) + 1
      ) {
        extendLost(last, Number(first.dataset['seq']));
        first.remove();
      }
      list.insertBefore(lines, list.firstChild);
      if (!lastRecord?.isConnected) lastRecord = Array.from(list.querySelectorAll<HTMLLIElement>(':scope > li[data-seq]')).at(-1);
    },
    addPending(messageId, text) {
      const li = bubble('mine pending', deps.me() ?? '', div('piece', text), false);
      li.dataset['messageId'] = messageId;
      li.append(div('status', 'sending…'));
      place(li, null);
    },
    markRefused(messageId, refusal) {
      const li = pendingLine(messageId);
      if (!li) return;
      li.classList.remove('pending');
      li.classList.add('refused');
      const status = li.querySelector<HTMLElement>('.status')!;
      const reason = doc.createElement('span');
      reason.className = 'reason';
      reason.textContent = `not sent: ${refusal.sentence}`;
      reason.title = refusal.detail;
      const text = li.querySelector('.piece')?.textContent ?? '';
      const gone = (): void => {
        li.remove();
        deps.forget(messageId);
      };
      const edit = button('edit', 'edit', () => {
        gone();
        deps.restore(text);
      });
      const discard = button('discard', 'discard', gone);
      const again = refusal.sendAgain;
      status.replaceChildren(reason, ' ', ...(again ? [button('again', 'send again', again), ' '] : []), edit, ' ', discard);
    },
    markSending(messageId) {
      const li = pendingLine(messageId);
      if (!li) return;
      li.classList.remove('refused');
      li.classList.add('pending');
      li.querySelector<HTMLElement>('.status')!.replaceChildren('sending…');
    },
    dropPending(messageId) {
      pendingLine(messageId)?.remove();
    },
    renameSenders() {
      for (const who of Array.from(list.querySelectorAll<HTMLElement>('.who[data-sender]')))
        who.textContent = deps.nameOf(who.dataset['sender']!);
    },
    get refusedCount() {
      return list.querySelectorAll('li.refused').length;
    },
    clear() {
      answers.clear();
      answering.clear();
      endedJobs.clear();
      lastRecord = undefined;
      list.replaceChildren();
    },
  };
}
