import { ChatError, type ChatErrorDetails } from '../actors/errors';

/**
 * What `open()` does with a database at an older schema version than this build's (config: chat.storage.migrations).
 * `apply` (default): run the pending migrations, as a lone server starting on a fresh machine needs. `require_current`:
 * open read-write but refuse any other version, for replicas sharing one database or deployments that migrate in a
 * step of their own (`nlweb-chat migrate`): a server starting must not change the schema under the others.
 */
export type SchemaMigrations = 'apply' | 'require_current';

/**
 * How the store was opened when it met a version it refuses: `migrating` (read-write, migrations: apply, which refuses
 * only a newer schema), `read-only` (the replay CLI) or `require-current` (read-write, migrations: require_current).
 * The last two leave an older schema, or none, as found, and the message says how to proceed.
 */
export type SchemaOpenMode = 'migrating' | 'read-only' | 'require-current';

/**
 * The refusal of a database whose schema version is not the one this build reads and writes, built in one place for
 * both SQL providers. `database` names it for the reader (`sqlite database ./chat.db`, `PostgreSQL schema prod in
 * database chat`).
 */
export function schemaVersionError(database: string, found: number, expected: number, mode: SchemaOpenMode): ChatError {
  const details = { found_version: found, expected_version: expected } satisfies ChatErrorDetails['STORAGE_ERR_SCHEMA_VERSION'];
  return new ChatError('STORAGE_ERR_SCHEMA_VERSION', refusalText(database, found, expected, mode), { details });
}

function refusalText(database: string, found: number, expected: number, mode: SchemaOpenMode): string {
  const unchanged = UNCHANGED[mode];
  if (found > expected) {
    return (
      `${database} is at schema version ${found}, newer than this build's ${expected} (${unchanged}): ` +
      `open it with a build that knows version ${found}, such as the one that migrated it; schemas are not rolled back`
    );
  }
  if (mode === 'require-current') {
    // The operator chose to migrate in a step of its own: the message names that step.
    if (found === 0) {
      return (
        `${database} holds no nlweb-chat tables (schema version 0, this build's is ${expected}; ${unchanged}): ` +
        `create them with this build's \`nlweb-chat migrate\` (same storage settings), or check which database you named`
      );
    }
    return (
      `${database} is at schema version ${found}, older than this build's ${expected} (${unchanged}): ` +
      `apply ${pendingVersions(found, expected)} with this build's \`nlweb-chat migrate\` (same storage settings), then open it again`
    );
  }
  if (found === 0) {
    return `${database} holds no nlweb-chat tables (schema version 0, this build's is ${expected}; ${unchanged}): check which database you named`;
  }
  return (
    `${database} is at schema version ${found}, older than this build's ${expected} (${unchanged}): ` +
    // Read-only: the reader (the replay CLI) is not the server; the message names both ways a build migrates.
    `read it with the build that wrote it, or migrate it first with this build: \`nlweb-chat migrate\` with the ` +
    `server's storage settings (its server also does at start, unless chat.storage.migrations is require_current)`
  );
}

/** `version 3` or `versions 2 to 3`: the migrations an open at `found` is missing. */
export function pendingVersions(found: number, expected: number): string {
  return found + 1 === expected ? `version ${expected}` : `versions ${found + 1} to ${expected}`;
}

const UNCHANGED: Readonly<Record<SchemaOpenMode, string>> = {
  migrating: 'nothing was changed',
  'read-only': 'opened read-only, nothing was changed',
  'require-current': 'migrations: require_current, nothing was changed',
};
