/**
 * How the chat page reads a conversation's past. It opens at the latest page, read over HTTP
 * (GET .../messages?before=, docs/http-api.md), and the socket resumes after that page's last id: replaying a
 * long conversation from its first record made every open slow and heavy. Older pages come on demand, above
 * what is shown. One pager per opened conversation; close() drops answers still on their way.
 */
import type { ChatMessage } from '../protocol-frames';
import type { MessageView } from './message-view';

/** Records per page: a screenful or two, and a small read for the server. */
export const HISTORY_PAGE_SIZE = 50;
/** A `before` past any conversation's end, which the server answers with the latest page. */
export const LATEST_PAGE = Number.MAX_SAFE_INTEGER;

/** The body of GET .../messages?before= (the fields the page uses). */
export interface HistoryPage {
  readonly messages: readonly ChatMessage[];
  readonly next_before: number;
  readonly has_more: boolean;
  /** The store no longer holds these ids (a bounded memory journal dropped them): nothing older can be read. */
  readonly dropped?: { readonly from: number; readonly to: number };
}

/** A page, or the refusal (an HTTP status and its error body; status 0: no answer at all). */
export type PageResult =
  { readonly page: HistoryPage } | { readonly status: number; readonly body: { readonly error?: string; readonly message?: string } };

export interface HistoryControls {
  /** Scrolls the controls and the list under them. */
  readonly scroller: HTMLElement;
  /** Holds the button and the note; hidden when neither has anything to say. */
  readonly box: HTMLElement;
  readonly button: HTMLButtonElement;
  readonly note: HTMLElement;
}

export interface HistoryPagerDeps {
  /** The page of records just before `before`, oldest first. */
  fetchPage(before: number): Promise<PageResult>;
  readonly view: Pick<MessageView, 'prepend'>;
  readonly controls: HistoryControls;
  /** An earlier page could not be read (the latest one falls back to the socket instead). */
  failed(refusal: Exclude<PageResult, { page: HistoryPage }>): void;
}

export interface HistoryPager {
  /**
   * Shows the latest page. Resolves with the id the socket resumes after, or undefined when the page could not be
   * read or the pager was closed meanwhile: then the socket brings the latest records itself (history=, at most a
   * page of them) and says where they start (earlierBefore).
   */
  openLatest(): Promise<number | undefined>;
  /**
   * The socket showed the latest records itself, from `before` on, and older ones exist (sync_complete.has_earlier):
   * "Load earlier" reads them over HTTP, as after a latest page.
   */
  earlierBefore(before: number): void;
  /** Shows the page before the oldest one shown; does nothing while one is loading or when none is older. */
  loadEarlier(): Promise<void>;
  close(): void;
}

export const DROPPED_NOTE = 'Older messages are no longer kept on the server.';

export function createHistoryPager(deps: HistoryPagerDeps): HistoryPager {
  const { scroller, box, button, note } = deps.controls;
  let nextBefore = LATEST_PAGE;
  let hasMore = false;
  let dropped = false;
  let loading = false;
  let closed = false;

  function render(): void {
    button.classList.toggle('hidden', !hasMore);
    button.disabled = loading;
    note.textContent = dropped ? DROPPED_NOTE : '';
    box.classList.toggle('hidden', closed || (!hasMore && !dropped));
  }

  /** Reads the page before `before` and shows it; the result, or undefined once closed. */
  async function read(before: number): Promise<PageResult | undefined> {
    loading = true;
    render();
    const result = await deps.fetchPage(before);
    loading = false;
    if (closed) return undefined;
    // What is on screen stays where it was: the same distance from the bottom, whatever went in (or out) above.
    const fromBottom = scroller.scrollHeight - scroller.scrollTop;
    if ('page' in result) {
      const { page } = result;
      deps.view.prepend(page.messages);
      nextBefore = page.next_before;
      hasMore = page.has_more;
      dropped = page.dropped !== undefined;
    }
    render();
    scroller.scrollTop = scroller.scrollHeight - fromBottom;
    return result;
  }

  render();
  return {
    async openLatest() {
      const result = await read(LATEST_PAGE);
      if (result === undefined || !('page' in result)) return undefined;
      return result.page.messages.at(-1)?.sequence_id ?? 0;
    },
    earlierBefore(before) {
      if (closed) return;
      nextBefore = before;
      hasMore = true;
      render();
    },
    async loadEarlier() {
      if (loading || !hasMore || closed) return;
      const result = await read(nextBefore);
      if (result !== undefined && !('page' in result)) deps.failed(result);
    },
    close() {
      closed = true;
      render();
    },
  };
}
