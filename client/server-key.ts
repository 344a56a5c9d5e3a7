/** Which spellings of a server address name the same server: one key for all of them. */

const SOCKET_SCHEMES: Readonly<Record<string, string>> = { 'ws:': 'ws:', 'wss:': 'wss:', 'http:': 'ws:', 'https:': 'wss:' };

/**
 * The server an address names, the same for every spelling the client would connect to the same place with: http(s)
 * as ws(s) (buildChatSocketUrl maps them), scheme and host in lower case, no default port (the URL class drops 80 for
 * http/ws and 443 for https/wss alike), no trailing slashes on the path (buildChatSocketUrl drops them). An address
 * the URL class cannot parse, or of another scheme, stays as given: it is not refused here, as it never was; its
 * WebSocket constructor throws when it is tried, and that counts as the server being gone (connection-loop.ts).
 */
export function serverKey(address: string): string {
  let parsed: URL;
  try {
    parsed = new URL(address);
  } catch {
    return address;
  }
  const scheme = SOCKET_SCHEMES[parsed.protocol];
  if (scheme === undefined) return address;
  const userInfo = parsed.username || parsed.password ? `${parsed.username}:${parsed.password}@` : '';
  const path = parsed.pathname.replace(/\/+$/, '');
  return `${scheme}//${userInfo}${parsed.host}${path}${parsed.search}${parsed.hash}`;
}
