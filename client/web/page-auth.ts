/**
 * Where the chat page keeps a bearer token: sessionStorage, for this tab only, never the URL (a URL is shared,
 * bookmarked and kept in history, and the token would let its reader act as its owner). A token that arrives
 * in the URL (`?token=`, as links used to carry it) is moved there.
 */

export const TOKEN_KEY = 'nlweb-chat-token';

/** The part of Storage used here (sessionStorage in the page). */
export type TokenStore = Pick<Storage, 'getItem' | 'setItem' | 'removeItem'>;

/** Moves a `token` parameter from `url` (changed in place) into the store; returns the stored token, if any. */
export function takeToken(url: URL, store: TokenStore): string | undefined {
  const fromUrl = url.searchParams.get('token');
  if (fromUrl !== null) {
    url.searchParams.delete('token');
    if (fromUrl.trim() !== '') store.setItem(TOKEN_KEY, fromUrl.trim());
  }
  return store.getItem(TOKEN_KEY) ?? undefined;
}

/**
 * The `sub` claim of a JWT, not verified: only to say who the page signs in as before the server has confirmed
 * it (the `connected` frame names the participant the server accepted).
 */
export function tokenSubject(token: string): string | undefined {
  const payload = token.split('.')[1];
  if (payload === undefined) return undefined;
  try {
    // base64url of UTF-8 JSON: atob gives the bytes as a binary string.
    const bytes = Uint8Array.from(atob(payload.replace(/-/g, '+').replace(/_/g, '/')), (c) => c.charCodeAt(0));
    const sub = (JSON.parse(new TextDecoder().decode(bytes)) as { sub?: unknown }).sub;
    return typeof sub === 'string' && sub !== '' ? sub : undefined;
  } catch {
    return undefined;
  }
}
