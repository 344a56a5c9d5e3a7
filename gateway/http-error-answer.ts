import type { ChatError } from '../actors/errors';
import { reusedOriginalOf } from './error-frames';

/**
 * What an HTTP answer to a ChatError carries: the status of its code, the JSON body `{error, code, message}` with
 * the fields some codes add, and the headers that go with them. One rule for the API's error handler
 * (http-error-handler.ts) and a WebSocket upgrade refused over plain HTTP (upgrade-rejection.ts).
 */
export interface HttpErrorAnswer {
  readonly status: number;
  readonly body: Readonly<Record<string, unknown>>;
  readonly headers: Readonly<Record<string, string>>;
}

/** CHAT_ERR_OWNED_ELSEWHERE: the holder's published `chat.ownership.address`, when it set one. */
export function ownerAddressOf(err: ChatError): string | undefined {
  const address = err.code === 'CHAT_ERR_OWNED_ELSEWHERE' ? err.details?.owner_address : undefined;
  return typeof address === 'string' && address !== '' ? address : undefined;
}

/** GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION: the versions the refusing server speaks (protocol-version.ts). */
export function supportedVersionsOf(err: ChatError): readonly number[] {
  const versions = err.details?.supported_protocol_versions;
  return Array.isArray(versions) ? versions.filter((v): v is number => typeof v === 'number') : [];
}

export function httpErrorAnswer(err: ChatError): HttpErrorAnswer {
  const status = err.spec.http;
  const body: Record<string, unknown> = { error: err.code, code: status, message: err.message };
  const headers: Record<string, string> = {};
  // Retry-After in whole seconds, rounded up, beside the exact retry_after_ms.
  if (err.retryAfterMs !== undefined) {
    const ms = Math.max(0, Math.ceil(err.retryAfterMs));
    body.retry_after_ms = ms;
    headers['Retry-After'] = String(Math.max(1, Math.ceil(ms / 1000)));
  }
  // 421: where the conversation lives, when that server published its address.
  const owner = ownerAddressOf(err);
  if (owner !== undefined) body.owner_address = owner;
  // 405: the methods the path takes (method-guard.ts), as RFC 9110 asks of every 405.
  const allow = err.code === 'GATEWAY_ERR_METHOD_NOT_ALLOWED' ? err.details?.allow : undefined;
  if (typeof allow === 'string') headers['Allow'] = allow;
  // 409 for a message_id reused with other content: which id, and the record first accepted under it.
  const original = reusedOriginalOf(err);
  if (original !== undefined) {
    body.message_id = err.details?.message_id;
    body.sequence_id = original;
  }
  // A socket URL's protocol_version this server does not speak: the ones it does, for the client to choose or report.
  if (err.code === 'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION') body.supported_protocol_versions = supportedVersionsOf(err);
  if (err.code === 'GATEWAY_ERR_UNAUTHENTICATED') headers['WWW-Authenticate'] = 'Bearer';
  return { status, body, headers };
}
