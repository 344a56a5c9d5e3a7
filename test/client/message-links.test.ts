/** The chat page's reading of links in AI answers (client/web/message-links.ts): http(s) in angle brackets only. */
import { itemNames, safeHref, splitLinks } from '../../client/web/message-links';

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

  it("names a link by its item: the line's leading name becomes the link, elsewhere the name replaces the URL", () => {
    const names = new Map([
      ['https://example.com/v', 'Cafe Verde'],
      ['https://example.com/r', 'Root'],
    ]);
    expect(splitLinks('Top picks:\nCafe Verde - vegan <https://example.com/v>\nsee also <https://example.com/r>', names)).toEqual([
      { text: 'Top picks:\n' },
      { text: 'Cafe Verde', href: 'https://example.com/v', title: 'https://example.com/v' },
      { text: ' - vegan' },
      { text: '\nsee also ' },
      { text: 'Root', href: 'https://example.com/r', title: 'https://example.com/r' },
    ]);
    // A URL no item names stays the link's text.
    expect(splitLinks('Other <https://example.org/x>', names)).toEqual([
      { text: 'Other ' },
      { text: 'https://example.org/x', href: 'https://example.org/x' },
    ]);
  });

  it('reads item names from metadata.items, skipping nameless items, URL-only names and anything malformed', () => {
    const metadata = {
      items: [
        { url: 'https://example.com/v', name: 'Cafe Verde' },
        { url: 'https://example.com/n', name: '' },
        { url: 'https://example.com/u', name: 'https://example.com/u' },
        { url: 'javascript:alert(1)', name: 'Evil' },
        { url: 42, name: 'Number' },
        null,
        'text',
      ],
    };
    expect([...itemNames(metadata)]).toEqual([['https://example.com/v', 'Cafe Verde']]);
    expect(itemNames({ items: 'no' }).size).toBe(0);
    expect(itemNames({}).size).toBe(0);
  });
});
