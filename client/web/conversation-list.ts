/**
 * The chat page's list of the user's conversations: each under its name (its title, or for an untitled one its
 * other members, conversation-names.ts, as the list names them; an older server's list does not, and then they are
 * asked once per conversation), the open one marked, its unread count as a badge (unread-badge.ts), conversations this
 * page just left kept out. When and how often the list is asked for is list-refresh.ts.
 */
import type { Participant } from '../protocol-frames';
import { isUntitled, untitledLabel } from './conversation-names';
import { unreadBadge, unreadShown } from './unread-badge';

/** The latest message of a conversation as the server's list previews it (docs/http-api.md, The conversation list). */
export interface LastMessagePreview {
  readonly sender_id: string;
  readonly content: string;
  readonly content_truncated?: boolean;
}

export interface ConversationMeta {
  readonly conversation_id: string;
  readonly title: string;
  /** Where it ranks (with its id): the list's pages continue by it (conversation-pages.ts). Absent from servers before paging. */
  readonly last_activity_at?: string;
  /** Absent from servers before the list had previews; null when the conversation has no message to preview. */
  readonly last_message?: LastMessagePreview | null;
  /** Its current members; absent from servers before the list carried them (then they are asked one by one). */
  readonly participants?: readonly Participant[];
  /** How many members in all: the list names only some of a big conversation's (docs/http-api.md). */
  readonly participant_count?: number;
  /** Its last record's id. */
  readonly last_sequence_id?: number;
  /** The user's unread messages there (at most 1000 counted); absent from servers before read positions. */
  readonly unread_count?: number;
}

export interface ConversationListDeps {
  readonly list: HTMLUListElement;
  /** The members of one conversation (GET /chat/conversations/{id}), or undefined if that failed; only for a list without them. */
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
  /** This page marked it read up to `sequenceId` (read-marker.ts): no badge while that is its last record. */
  markedRead(conversationId: string, sequenceId: number): void;
}

export function createConversationList(deps: ConversationListDeps): ConversationList {
  let listed: readonly ConversationMeta[] = [];
  /** The rendered list, to leave an unchanged one (hover, scroll) alone. */
  let shown = '';
  const members = new Map<string, readonly Participant[]>();
  /** Member counts of conversations whose `members` entry is the list's partial one. */
  const memberCounts = new Map<string, number>();
  const asking = new Set<string>();
  const left = new Set<string>();
  const markedByPage = new Map<string, number>();
  let open: { id: string; title: string | undefined } | undefined;

  function labelOf(conversationId: string, title: string | undefined): string {
    return isUntitled(title)
      ? untitledLabel(conversationId, members.get(conversationId), deps.me(), memberCounts.get(conversationId))
      : title!;
  }

  /** "You: …" or "<sender's name>: …" (a member's display name when this page knows it), or '' for none. */
  function previewOf(c: ConversationMeta): string {
    const m = c.last_message;
    if (!m) return '';
    const sender =
      m.sender_id === deps.me()
        ? 'You'
        : (members.get(c.conversation_id)?.find((p) => p.participant_id === m.sender_id)?.display_name ?? m.sender_id);
    return `${sender}: ${m.content}${m.content_truncated ? '…' : ''}`;
  }

  function render(): void {
    // The server's order (most recent activity first) is kept as it comes.
    const labelled = listed.map(
      (c) => [c.conversation_id, labelOf(c.conversation_id, c.title), previewOf(c), unreadShown(c, open?.id, markedByPage)] as const,
    );
    if (open) deps.renamed(labelOf(open.id, open.title));
    const next = JSON.stringify(labelled);
    if (next === shown) return;
    shown = next;
    const doc = deps.list.ownerDocument;
    deps.list.replaceChildren(
      ...listed.map((c, i) => {
        const li = doc.createElement('li');
        const [, label, preview, unread] = labelled[i]!;
        // The name stays the item's own text (its accessible name starts with it); the preview is a line below it.
        li.textContent = label;
        const badge = unreadBadge(doc, unread);
        if (badge) li.append(' ', badge);
        if (preview) {
          const line = doc.createElement('span');
          line.className = 'preview';
          line.textContent = preview;
          li.append(line);
        }
        li.dataset['id'] = c.conversation_id;
        if (c.conversation_id === open?.id) li.classList.add('active');
        li.addEventListener('click', () => deps.pick(c.conversation_id, c.title));
        return li;
      }),
    );
  }

  function noteMembers(conversationId: string, participants: readonly Participant[]): void {
    members.set(conversationId, participants);
    memberCounts.delete(conversationId); // a whole list (a socket's, a summary's)
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
      // The list names the members: no request per conversation (the page's reads are budgeted, docs/http-api.md).
      for (const c of listed) {
        if (!c.participants) continue;
        members.set(c.conversation_id, c.participants);
        if (c.participant_count === undefined) memberCounts.delete(c.conversation_id);
        else memberCounts.set(c.conversation_id, c.participant_count);
      }
      render();
      for (const c of listed) if (!c.participants && isUntitled(c.title)) void askMembers(c.conversation_id);
    },
    labelOf,
    setOpen(conversationId, title) {
      open = conversationId === undefined ? undefined : { id: conversationId, title };
      // Its badge goes while it is open (and the one it left comes back as the list counts it).
      render();
      for (const li of Array.from(deps.list.querySelectorAll('li'))) li.classList.toggle('active', li.dataset['id'] === conversationId);
    },
    noteMembers,
    markLeft(conversationId) {
      left.add(conversationId);
      listed = listed.filter((c) => c.conversation_id !== conversationId);
      render();
    },
    markedRead(conversationId, sequenceId) {
      // The latest mark, also a lower one: the page marks lower only after the server lost records (read-marker.ts).
      if (sequenceId === markedByPage.get(conversationId)) return;
      markedByPage.set(conversationId, sequenceId);
      render();
    },
  };
}
