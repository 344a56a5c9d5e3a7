import type { NlwebChatConfig } from '../config/config-types';
import { configProblemsError, type ConfigProblem } from '../config/load-config';
import type { ChatError } from '../actors/errors';
import { isLoopbackAddress } from './net-utils';

/** HS256 wants a key at least as long as its hash: 256 bits (RFC 7518, 3.2). */
const MIN_JWT_SECRET_BYTES = 32;

/**
 * What createChatServer refuses in a config the schema accepts, as problems with their YAML paths. Kept apart
 * so the server binary can ask before it starts anything (docs/operations.md: nothing listens on a config error),
 * and createChatServer still refuses the same when embedded.
 */
export function serverConfigProblems(config: NlwebChatConfig, options: { readonly customAuthenticator: boolean }): ConfigProblem[] {
  const problems: ConfigProblem[] = [];
  const { host, auth, tls } = config.server;
  // A custom authenticator replaces server.auth entirely, so neither auth rule applies to it.
  if (!options.customAuthenticator && auth.mode === 'dev' && !isLoopbackAddress(host)) {
    problems.push({
      path: 'server.host',
      message: `server.auth.mode "dev" trusts a user_id parameter and is only allowed on a loopback host, not "${host}"; use mode "jwt"`,
    });
  }
  if (!options.customAuthenticator && auth.mode === 'jwt' && !auth.jwt_secret) {
    problems.push({ path: 'server.auth.jwt_secret', message: 'is required when server.auth.mode is "jwt"' });
  } else if (
    !options.customAuthenticator &&
    auth.mode === 'jwt' &&
    !isLoopbackAddress(host) &&
    Buffer.byteLength(auth.jwt_secret) < MIN_JWT_SECRET_BYTES
  ) {
    // A short HS256 secret falls to an offline guess from any one token; on loopback (tests, a laptop) it is allowed.
    problems.push({
      path: 'server.auth.jwt_secret',
      message: `must be at least ${MIN_JWT_SECRET_BYTES} bytes (256 bits, RFC 7518 3.2) when the server listens beyond loopback ("${host}")`,
    });
  }
  if ((tls.cert_file === '') !== (tls.key_file === '')) {
    const missing = tls.cert_file === '' ? 'cert_file' : 'key_file';
    const set = missing === 'cert_file' ? 'key_file' : 'cert_file';
    problems.push({ path: `server.tls.${missing}`, message: `must be set together with server.tls.${set}` });
  }
  return problems;
}

/**
 * CONFIG_ERR_INVALID for a gateway given no runtime (a JavaScript caller, or a Promise not awaited): without one the
 * server listened and answered every request 500 GATEWAY_ERR_INTERNAL.
 */
export function runtimeMissing(runtime: unknown): ChatError {
  const promise = typeof (runtime as { then?: unknown } | null | undefined)?.then === 'function';
  return configProblemsError([
    {
      path: 'runtime',
      message: promise
        ? 'is a Promise: pass the runtime it resolves to (runtime: await createChatRuntime(...))'
        : 'is required: the ChatRuntime that createChatRuntime() resolves to',
    },
  ]);
}
