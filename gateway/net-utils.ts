import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';

/** True for 127.0.0.0/8, ::1 and their IPv4-mapped forms, and "localhost". */
export function isLoopbackAddress(address: string | undefined): boolean {
  if (!address) return false;
  const a = address.toLowerCase().replace(/^\[|\]$/g, '');
  if (a === 'localhost' || a === '::1' || a === '0:0:0:0:0:0:0:1') return true;
  const v4 = a.startsWith('::ffff:') ? a.slice(7) : a;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(v4);
}

/**
 * The host name of a Host header when it names this machine's loopback ("localhost", a name under ".localhost",
 * which browsers resolve to loopback themselves, 127.0.0.0/8, [::1]); otherwise the name, for saying which it was.
 */
export function hostHeaderName(host: string | undefined): { readonly name: string; readonly loopback: boolean } {
  let name: string;
  try {
    name = new URL(`http://${host ?? ''}`).hostname.toLowerCase();
  } catch {
    return { name: host ?? '', loopback: false };
  }
  return { name, loopback: isLoopbackAddress(name) || name.endsWith('.localhost') };
}

/**
 * Whether the request came over TLS: the socket itself, or (only when the operator says a trusted
 * TLS-terminating proxy sits in front) `X-Forwarded-Proto: https`.
 */
export function isSecureRequest(req: IncomingMessage, trustForwardedProto: boolean): boolean {
  if ((req.socket as TLSSocket).encrypted === true) return true;
  if (!trustForwardedProto) return false;
  const proto = req.headers['x-forwarded-proto'];
  const first = (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim().toLowerCase();
  return first === 'https' || first === 'wss';
}
