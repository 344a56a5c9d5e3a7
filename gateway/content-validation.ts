/** Control characters other than \t, \n and \r (C0, DEL and C1). */
const FORBIDDEN_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]/;

/**
 * Checks message content the same way for WebSocket frames and HTTP posts. Returns a reason, or
 * undefined when the content is acceptable.
 */
export function contentProblem(content: string, maxLength: number): string | undefined {
  if (content.trim().length === 0) return 'content is empty';
  if (content.length > maxLength) return `content is longer than ${maxLength} characters`;
  if (FORBIDDEN_CONTROL.test(content)) return 'content contains control characters (only \\n, \\r and \\t are allowed)';
  return undefined;
}
