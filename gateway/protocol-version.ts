import { ChatError } from '../actors/errors';
import { isPlainInteger } from './query-integers';

/**
 * The WebSocket protocol versions this gateway speaks (docs/protocol.md, Protocol versions). A version changes only
 * when a frame or field changes meaning or goes away; added fields and frames keep the version (clients ignore what
 * they do not know). When a version 2 exists the gateway will speak both for a deprecation period, choosing per socket.
 */
export const SUPPORTED_PROTOCOL_VERSIONS: readonly number[] = Object.freeze([1]);

/** What a socket URL without `protocol_version` speaks: NLWeb's own clients name none. */
export const DEFAULT_PROTOCOL_VERSION = 1;

const spoken = (): string => SUPPORTED_PROTOCOL_VERSIONS.join(', ');

/**
 * The version a socket URL asks for (its `protocol_version`, or the default), or the refusal: a value that is not a
 * positive integer written plainly is a bad request; a version this server does not speak is
 * GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION carrying the ones it does, so the client can tell its user to update
 * instead of misreading frames whose meaning changed.
 */
export function requestedProtocolVersion(value: string | null): number | ChatError {
  if (value === null) return DEFAULT_PROTOCOL_VERSION;
  // Any length: a plainly written positive integer names a version (docs/protocol.md), one this server may not speak;
  // only what is not one is a bad request. Digits only, and the request line bounds how many.
  if (!isPlainInteger(value) || value === '0') {
    return new ChatError('GATEWAY_ERR_BAD_REQUEST', `protocol_version must be a positive integer (this server speaks ${spoken()})`);
  }
  const version = Number(value);
  if (SUPPORTED_PROTOCOL_VERSIONS.includes(version)) return version;
  return new ChatError(
    'GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION',
    `protocol_version ${value} is not spoken here; this server speaks ${spoken()}`,
    {
      details: { supported_protocol_versions: [...SUPPORTED_PROTOCOL_VERSIONS] },
    },
  );
}
