/**
 * At most `max` UTF-16 code units of `text`, never ending on the first half of a surrogate pair (half a pair is
 * not valid UTF-16: a client would show U+FFFD and PostgreSQL's jsonb refuses it). For everything the gateway
 * shortens: echoed ids, display names, previews.
 */
export function cutText(text: string, max: number): string {
  if (text.length <= max) return text;
  const last = text.charCodeAt(max - 1);
  return text.slice(0, last >= 0xd800 && last <= 0xdbff ? max - 1 : max);
}
