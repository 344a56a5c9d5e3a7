/**
 * The HTTP API (docs/http-api.md) as the chat page calls it: every request signed in the same way (a bearer token,
 * or the dev user id in the query), and a 401 to a token reported once, so the page can ask for another. Apart
 * from the page's logic so that signing a request is in one place, whatever the page is asking for.
 */
import { HISTORY_PAGE_SIZE, type HistoryPage, type PageResult } from './history-pager';

/** The error body of the HTTP API (docs/http-api.md): `error` is the code. */
export interface ApiErrorBody {
  readonly error?: string;
  readonly message?: string;
}

/** A request to the page's own server, signed in as the page's user. */
export type PageApi = (pathname: string, init?: RequestInit) => Promise<Response>;

export interface PageApiOptions {
  readonly token: string | undefined;
  /** The dev user id; unused with a token. */
  readonly userId: string | undefined;
  /** The server answered 401 to the token (expired, wrong); `detail` says which request. */
  tokenRefused(detail: string): void;
}

export function createPageApi(options: PageApiOptions): PageApi {
  const { token, userId } = options;
  return (pathname, init = {}) => {
    const url = new URL(pathname, location.origin);
    const headers = new Headers(init.headers);
    if (token) headers.set('Authorization', `Bearer ${token}`);
    else if (userId) url.searchParams.set('user_id', userId);
    return fetch(url, { ...init, headers }).then((res) => {
      if (res.status === 401 && token) options.tokenRefused(`GATEWAY_ERR_UNAUTHENTICATED: ${pathname} answered 401`);
      return res;
    });
  };
}

/** A 429's Retry-After in milliseconds (at least 1 s when absent or unreadable: a refusal is never retried at once). */
export function retryAfterMs(res: Pick<Response, 'headers'>): number {
  const seconds = Number(res.headers.get('Retry-After'));
  return Number.isFinite(seconds) && seconds > 0 ? Math.ceil(seconds) * 1000 : 1000;
}

/** The page of records before `before` (history-pager.ts); a failure is an answer too, never a rejection. */
export async function fetchHistoryPage(api: PageApi, conversationId: string, before: number): Promise<PageResult> {
  try {
    const res = await api(`/chat/conversations/${encodeURIComponent(conversationId)}/messages?before=${before}&limit=${HISTORY_PAGE_SIZE}`);
    const body = (await res.json().catch(() => ({}))) as HistoryPage & ApiErrorBody;
    return res.ok ? { page: body } : { status: res.status, body };
  } catch (err) {
    return { status: 0, body: { error: 'CLIENT_CONNECT_FAILED', message: String(err) } };
  }
}
