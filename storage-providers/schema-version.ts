import { ChatError, type ChatErrorDetails } from '../actors/errors';

/**
 * The refusal of a database whose schema version is not the one this build reads and writes, built in one place for
 * both SQL providers. `database` names it for the reader (`sqlite database ./chat.db`, `PostgreSQL schema prod in
 * database chat`). `readOnly`: the store was opened for reading only (the replay CLI), so an older schema, or none,
 * was left as found instead of migrated or created, and the message says how to proceed.
 */
export function schemaVersionError(database: string, found: number, expected: number, readOnly: boolean): ChatError {
  const details = { found_version: found, expected_version: expected } satisfies ChatErrorDetails['STORAGE_ERR_SCHEMA_VERSION'];
  return new ChatError('STORAGE_ERR_SCHEMA_VERSION', refusalText(database, found, expected, readOnly), { details });
}

function refusalText(database: string, found: number, expected: number, readOnly: boolean): string {
  const unchanged = readOnly ? 'opened read-only, nothing was changed' : 'nothing was changed';
  if (found > expected) {
    return (
      `${database} is at schema version ${found}, newer than this build's ${expected} (${unchanged}): ` +
      `open it with a build that knows version ${found}, such as the one that migrated it; schemas are not rolled back`
    );
  }
  if (found === 0) {
    return `${database} holds no nlweb-chat tables (schema version 0, this build's is ${expected}; ${unchanged}): check which database you named`;
  }
  return (
    `${database} is at schema version ${found}, older than this build's ${expected} (${unchanged}): ` +
    `read it with the build that wrote it, or migrate it first by opening it once read-write with this build ` +
    `(its server does at start)`
  );
}
