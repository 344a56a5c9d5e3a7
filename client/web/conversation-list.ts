/**
 * The chat page's list of the user's conversations: each under its name (its title, or for an untitled one its
 * other members, conversation-names.ts, whose members are asked once), the open one marked, conversations this
 * page just left kept out. When and how often the list is asked for is list-refresh.ts.
 */
import type { Participant } from '../protocol-frames';
import { isUntitled, untitledLabel } from './conversation-names';

export interface ConversationMeta {
  readonly conversation_id: string;
  readonly title: string;
}

export interface ConversationListDeps {
  readonly list: HTMLUListElement;
  /** The members of one conversation (GET /chat/conversations/{id}), or undefined if that failed. */
  fetchMembers(conversationId: string): Promise<readonly Participant[] | undefined>;
  me(): string | undefined;
  /** The user picked a conversation in the list. */
  pick(conversationId: string, title: string): void;
  /** The open conversation's name changed (its members did): the page's heading follows. */
  renamed(label: string): void;
}

export interface ConversationList {
  /** What the server listed (a refresh). */
  show(conversations: readonly ConversationMeta[]): void;
  /** A conversation's name. */
  labelOf(conversationId: string, title: string | undefined): string;
  /** The open conversation (undefined: none), marked in the list. */
  setOpen(conversationId: string | undefined, title?: string): void;
  /** Its members as its socket reports them. */
  noteMembers(conversationId: string, participants: readonly Participant[]): void;
  /** This page left it: kept out of the list, also of an answer to a request that crossed the leave. */
  markLeft(conversationId: string): void;
}

export function createConversationList(deps: ConversationListDeps): ConversationList {
  let listed: readonly ConversationMeta[] = [];
  /** The rendered list, to leave an unchanged one (hover, scroll) alone. */
  let shown = '';
  const members = new Map<string, readonly Participant[]>();
  const asking = new Set<string>();
  const left = new Set<string>();
  let open: { id: string; title: string | undefined } | undefined;

  function labelOf(conversationId: string, title: string | undefined): string {
    return isUntitled(title) ? untitledLabel(conversationId, members.get(conversationId), deps.me()) : title!;
  }

  function render(): void {
    const labelled = listed.map((c) => [c.conversation_id, labelOf(c.conversation_id, c.title)] as const);
    if (open) deps.renamed(labelOf(open.id, open.title));
    const next = JSON.stringify(labelled);
    if (next === shown) return;
    shown = next;
    const doc = deps.list.ownerDocument;
    deps.list.replaceChildren(
      ...listed.map((c, i) => {
        const li = doc.createElement('li');
        li.textContent = labelled[i]![1];
        li.dataset['id'] = c.conversation_id;
        if (c.conversation_id === open?.id) li.classList.add('active');
        li.addEventListener('click', () => deps.pick(c.conversation_id, c.title));
        return li;
      }),
    );
  }

  function noteMembers(conversationId: string, participants: readonly Participant[]): void {
    members.set(conversationId, participants);
    render();
  }

  async function askMembers(conversationId: string): Promise<void> {
    if (members.has(conversationId) || asking.has(conversationId)) return;
    asking.add(conversationId);
    const found = await deps.fetchMembers(conversationId).catch(() => undefined);
    asking.delete(conversationId);
    if (found) noteMembers(conversationId, found);
  }

  return {
    show(conversations) {
      for (const id of left) if (!conversations.some((c) => c.conversation_id === id)) left.delete(id);
      listed = conversations.filter((c) => !left.has(c.conversation_id));
      render();
      for (const c of listed) if (isUntitled(c.title)) void askMembers(c.conversation_id);
    },
    labelOf,
    setOpen(conversationId, title) {
      open = conversationId === undefined ? undefined : { id: conversationId, title };
      for (const li of Array.from(deps.list.querySelectorAll('li'))) li.classList.toggle('active', li.dataset['id'] === conversationId);
    },
    noteMembers,
    markLeft(conversationId) {
      left.add(conversationId);
      listed = listed.filter((c) => c.conversation_id !== conversationId);
      render();
    },
  };
}
