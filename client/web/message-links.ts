/**
 * Links in AI answers. NLWeb agents write an item's link as `<https://...>` after its name (nlweb-answer-pieces.ts)
 * and carry the items themselves in the record's `metadata.items`; the page shows those links as real links, named
 * by the item's name where it has one (the URL then goes to the tooltip). Only http and https: anything else in
 * angle brackets (`<javascript:...>`) stays text. The page builds the links as elements with this href and the name
 * as text, never as markup.
 */

/** A run of an answer's text: plain, or a link to show (`title`: the URL, when the text is a name). */
export type TextRun = { readonly text: string } | { readonly text: string; readonly href: string; readonly title?: string };

const BRACKETED_URL = /<(https?:\/\/[^\s<>]+)>/g;

/** The URL as an http(s) href, or undefined (not a URL, or another scheme). */
export function safeHref(raw: string): string | undefined {
  try {
    const url = new URL(raw);
    return url.protocol === 'http:' || url.protocol === 'https:' ? url.href : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The names of the items a record's metadata lists, by href: `metadata.items` as NLWeb agents write it
 * ({ url, name, ... }). Items without a name, or whose name is only their URL (NLWeb's fallback), are left out.
 * Anything else in the metadata is ignored: it comes from an agent and is only ever read as strings.
 */
export function itemNames(metadata: Readonly<Record<string, unknown>>): Map<string, string> {
  const names = new Map<string, string>();
  const items = metadata['items'];
  if (!Array.isArray(items)) return names;
  for (const item of items as unknown[]) {
    if (typeof item !== 'object' || item === null) continue;
    const { url, name } = item as { url?: unknown; name?: unknown };
    if (typeof url !== 'string' || typeof name !== 'string' || name.trim() === '' || name === url) continue;
    const href = safeHref(url);
    if (href !== undefined && !names.has(href)) names.set(href, name);
  }
  return names;
}

/**
 * Splits `text` at its `<http(s)://...>` links; the brackets go. A link whose href `names` knows is that name
 * (its URL in `title`); where its line starts with the name, as an item's line does ("Name - description <url>"),
 * that name becomes the link and the bracketed URL goes, so the name is not said twice. Any other link is its URL.
 */
export function splitLinks(text: string, names: ReadonlyMap<string, string> = new Map()): TextRun[] {
  const runs: TextRun[] = [];
  let at = 0;
  const plain = (to: number): void => {
    if (to > at) runs.push({ text: text.slice(at, to) });
  };
  for (const match of text.matchAll(BRACKETED_URL)) {
    const href = safeHref(match[1]!);
    if (href === undefined) continue;
    const name = names.get(href);
    const end = match.index + match[0].length;
    if (name === undefined) {
      plain(match.index);
      runs.push({ text: match[1]!, href });
      at = end;
      continue;
    }
    const lineStart = text.lastIndexOf('\n', match.index - 1) + 1;
    if (lineStart >= at && lineStart + name.length <= match.index && text.startsWith(name, lineStart)) {
      plain(lineStart);
      runs.push({ text: name, href, title: href });
      // What the line says after the name (" - description"), without the space that led to the bracketed URL.
      const rest = text.slice(lineStart + name.length, match.index).trimEnd();
      if (rest !== '') runs.push({ text: rest });
    } else {
      plain(match.index);
      runs.push({ text: name, href, title: href });
    }
    at = end;
  }
  plain(text.length);
  return runs;
}
