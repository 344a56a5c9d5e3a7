/**
 * Links in AI answers. NLWeb agents write an item's link as `<https://...>` after its name (nlweb-answer-pieces.ts);
 * the page shows those as real links. Only http and https: anything else in angle brackets (`<javascript:...>`)
 * stays text. The page builds the links as elements with this href, never as markup.
 */

/** A run of an answer's text: plain, or a link to show. */
export type TextRun = { readonly text: string } | { readonly text: string; readonly href: string };

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

/** Splits `text` at its `<http(s)://...>` links; the brackets go, the URL is the link's text. */
export function splitLinks(text: string): TextRun[] {
  const runs: TextRun[] = [];
  let at = 0;
  for (const match of text.matchAll(BRACKETED_URL)) {
    const href = safeHref(match[1]!);
    if (href === undefined) continue;
    if (match.index > at) runs.push({ text: text.slice(at, match.index) });
    runs.push({ text: match[1]!, href });
    at = match.index + match[0].length;
  }
  if (at < text.length) runs.push({ text: text.slice(at) });
  return runs;
}
