import type { ConfigProblem } from './load-config';
import { storageUrlSchemeProblems } from './storage-url-checks';

/**
 * Rules the JSON Schema cannot state because they relate two keys. Each reads the candidate as ajv left it
 * (defaults applied) and says nothing when a value it needs is itself invalid (in `invalidPaths`): that key's own problem is
 * already reported, and a second one about it would only confuse.
 */
export function crossKeyProblems(candidate: unknown, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  return [
    ...heartbeatProblems(candidate, invalidPaths),
    ...storageUrlSchemeProblems(at(candidate, ['chat', 'storage']), invalidPaths),
    ...postgresUrlSchemaProblems(candidate, invalidPaths),
    ...forwardingAddressProblems(candidate, invalidPaths),
  ];
}

/**
 * `chat.ownership.forward` without `chat.ownership.address`: a holder without an address stores none with its claims, so
 * the others have nowhere to forward to and answer 421 without owner_address, exactly what forwarding is for clients that
 * cannot act on. Checked with the config, not by createChatServer: a gateway on an embedder's own http server forwards too.
 */
function forwardingAddressProblems(candidate: unknown, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  const ownership = at(candidate, ['chat', 'ownership']);
  if (ownership?.forward !== true || ownership.address !== '' || invalidPaths.has('chat.ownership.address')) return [];
  return [
    {
      path: 'chat.ownership.address',
      message:
        'is required when chat.ownership.forward is true: the other servers forward requests for the conversations this one holds ' +
        'to the address it publishes (env NLWEB_CHAT_ADDRESS)',
    },
  ];
}

/**
 * `?schema=` in the PostgreSQL URL: the replay CLI's `--storage` takes it, but pg passes unknown parameters by, so the
 * server and `nlweb-chat migrate` would quietly use chat.storage.postgres.schema (default public) instead: migrating,
 * and writing conversations, into a schema the operator did not name.
 */
function postgresUrlSchemaProblems(candidate: unknown, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  const storage = at(candidate, ['chat', 'storage']);
  const postgres = at(candidate, ['chat', 'storage', 'postgres']);
  if (storage?.backend !== 'postgres' || typeof postgres?.url !== 'string' || invalidPaths.has('chat.storage.postgres.url')) return [];
  let named: string | null;
  try {
    named = new URL(postgres.url).searchParams.get('schema');
  } catch {
    return []; // pg reports a URL it cannot parse when it connects, with the URL's own words
  }
  if (named === null) return [];
  const used = typeof postgres.schema === 'string' ? postgres.schema : 'public';
  return [
    {
      path: 'chat.storage.postgres.url',
      message:
        `has a "schema" parameter, which the connection ignores: the tables would be in schema "${used}" (chat.storage.postgres.schema). ` +
        `Set chat.storage.postgres.schema: ${named} and leave the parameter out`,
    },
  ];
}

function heartbeatProblems(candidate: unknown, invalidPaths: ReadonlySet<string>): ConfigProblem[] {
  const ws = at(candidate, ['server', 'websocket']);
  const interval = ws?.heartbeat_interval_s;
  const dead = ws?.heartbeat_dead_s;
  if (typeof interval !== 'number' || typeof dead !== 'number' || dead > interval) return [];
  if (invalidPaths.has('server.websocket.heartbeat_interval_s') || invalidPaths.has('server.websocket.heartbeat_dead_s')) return [];
  // The server checks for silence only at its ping ticks, and a peer that only answers pings is silent for
  // up to a whole interval: a shorter dead time would have no effect (checking more often would terminate
  // every such peer instead), and an equal one terminates it whenever a tick fires late.
  return [
    {
      path: 'server.websocket.heartbeat_dead_s',
      message:
        `must be greater than server.websocket.heartbeat_interval_s (${dead} is not > ${interval}): the server looks for ` +
        'silent sockets once per interval, and a peer that only answers pings is silent for a whole interval',
    },
  ];
}

function at(value: unknown, path: readonly string[]): Record<string, unknown> | undefined {
  let node = value;
  for (const key of path) {
    if (typeof node !== 'object' || node === null || Array.isArray(node)) return undefined;
    node = (node as Record<string, unknown>)[key];
  }
  return typeof node === 'object' && node !== null && !Array.isArray(node) ? (node as Record<string, unknown>) : undefined;
}
