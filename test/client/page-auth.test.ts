/** The chat page's token keeping (client/web/page-auth.ts): out of the URL into session storage. */
import jwt from 'jsonwebtoken';
import { takeToken, TOKEN_KEY, tokenSubject, type TokenStore } from '../../client/web/page-auth';

function memoryStore(): TokenStore & { items: Map<string, string> } {
  const items = new Map<string, string>();
  return {
    items,
    getItem: (k) => items.get(k) ?? null,
    setItem: (k, v) => void items.set(k, v),
    removeItem: (k) => void items.delete(k),
  };
}

describe("the chat page's token", () => {
  it('moves from the URL into the store, leaving the rest of the URL; a stored one is used when the URL has none', () => {
    const store = memoryStore();
    const url = new URL('http://h/?token=abc.def.ghi&conversation=trip');
    expect(takeToken(url, store)).toBe('abc.def.ghi');
    expect(url.search).toBe('?conversation=trip');
    expect(store.items.get(TOKEN_KEY)).toBe('abc.def.ghi');
    expect(takeToken(new URL('http://h/'), store)).toBe('abc.def.ghi');
    expect(takeToken(new URL('http://h/'), memoryStore())).toBeUndefined();
  });

  it("names the token's subject for display, and nothing for what is not a JWT", () => {
    expect(tokenSubject(jwt.sign({ sub: 'zoë' }, 'k'))).toBe('zoë');
    expect(tokenSubject(jwt.sign({ sub: 'alice' }, 'k'))).toBe('alice');
    for (const t of ['', 'not-a-jwt', 'a.%%%.c', `x.${Buffer.from('[1]').toString('base64url')}.y`])
      expect(tokenSubject(t)).toBeUndefined();
  });
});
