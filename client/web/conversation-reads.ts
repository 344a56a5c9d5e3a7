/**
 * The chat page's reads of GET /chat/conversations: the first page (each refresh, list-refresh.ts decides when) and,
 * on a click of "Show older conversations", the next older page. conversation-pages.ts merges them; this module
 * asks, says refusals on the error line and shows the button while there is an older page to read.
 */
import type { ConversationList } from './conversation-list';
import { CONVERSATION_PAGE_SIZE, createConversationPages, type ConversationListPage } from './conversation-pages';
import { showApiError, showError, showReadLimited } from './error-line';
import { retryAfterMs, type ApiErrorBody, type PageApi } from './page-api';

export interface ConversationReadsDeps {
  readonly api: PageApi;
  readonly list: ConversationList;
  /** "Show older conversations": hidden while there is nothing older to read, disabled while a page is on its way. */
  readonly olderButton: HTMLButtonElement;
  /** Asks for the first page again (through list-refresh.ts, which never runs two at once). */
  refreshSoon(): void;
  readonly setTimer: (fn: () => void, ms: number) => unknown;
}

export interface ConversationReads {
  /** Reads the first page; a refusal is said on the error line, and over the read budget asked again after its wait. */
  refresh(): Promise<void>;
  /** Reads the next older page (one request, nothing while one is on its way), appended to the list. */
  showOlder(): Promise<void>;
}

export function createConversationReads(deps: ConversationReadsDeps): ConversationReads {
  const pages = createConversationPages();
  /** The error line says a read was refused over the read budget (cleared once a list comes). */
  let limited = false;
  let readingOlder = false;

  function show(): void {
    deps.list.show(pages.listed);
    deps.olderButton.classList.toggle('hidden', pages.olderCursor === null);
  }

  /** The page's answer, or undefined after saying why there is none (and, over the budget, asking `again` later). */
  async function read(query: string, what: string, again: () => void): Promise<ConversationListPage | undefined> {
    const res = await deps.api(`/chat/conversations?${query}`);
    if (res.status === 429) {
      const waitMs = retryAfterMs(res);
      showReadLimited(what, waitMs, (await res.json().catch(() => ({}))) as ApiErrorBody);
      limited = true;
      deps.setTimer(again, waitMs);
      return undefined;
    }
    if (!res.ok) {
      showApiError(what, res.status, (await res.json().catch(() => ({}))) as ApiErrorBody);
      return undefined;
    }
    const page = (await res.json()) as ConversationListPage;
    // A list came after a 429: its message is no longer true.
    if (limited) showError('');
    limited = false;
    return page;
  }

  const showOlder = async (): Promise<void> => {
    const cursor = pages.olderCursor;
    if (cursor === null || readingOlder) return;
    readingOlder = true;
    deps.olderButton.disabled = true;
    try {
      const query = `limit=${CONVERSATION_PAGE_SIZE}&cursor=${encodeURIComponent(cursor)}`;
      const page = await read(query, 'Could not list older conversations.', () => void showOlder());
      if (page && pages.appendOlder(cursor, page)) show();
    } finally {
      readingOlder = false;
      deps.olderButton.disabled = false;
    }
  };

  return {
    async refresh() {
      const page = await read(`limit=${CONVERSATION_PAGE_SIZE}`, 'Could not list your conversations.', deps.refreshSoon);
      if (!page) return;
      pages.refreshed(page);
      show();
    },
    showOlder,
  };
}
