/** The chat page's reading of links in AI answers (client/web/message-links.ts): http(s) in angle brackets only. */
import { safeHref, splitLinks } from '../../client/web/message-links';

describe('links in AI answers', () => {
  it('splits bracketed http(s) URLs out of the text, dropping the brackets', () => {
    expect(splitLinks('Cafe Verde - vegan <https://example.com/v?a=1&b=2>\nRoot <http://example.org/r>')).toEqual([
      { text: 'Cafe Verde - vegan ' },
      { text: 'https://example.com/v?a=1&b=2', href: 'https://example.com/v?a=1&b=2' },
      { text: '\nRoot ' },
      { text: 'http://example.org/r', href: 'http://example.org/r' },
    ]);
  });

  it('leaves everything else as text: other schemes, bare URLs, markup', () => {
    for (const text of ['<javascript:alert(1)>', '<data:text/html,x>', 'see https://example.com', '<a href="https://x.y">x</a>', '']) {
      expect(splitLinks(text)).toEqual(text === '' ? [] : [{ text }]);
    }
    expect(safeHref('javascript:alert(1)')).toBeUndefined();
    expect(safeHref('https://exa mple.com')).toBeUndefined();
    expect(safeHref('HTTPS://Example.com')).toBe('https://example.com/');
  });
});
