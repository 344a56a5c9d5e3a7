/**
 * Where the server keeps its conversations, as the ready line says it: an operator reading `"storage":"memory"`
 * could not tell that a restart empties it, nor which file `sqlite` writes (a relative path resolves against the
 * directory the server was started in). PostgreSQL: the schema and the URL, the URL without its password (in the
 * user part or a `password` parameter); the schema is a setting of its own (chat.storage.postgres.schema), so the URL
 * alone did not tell two deployments sharing one database apart. Redis: the key prefix and the URL, likewise.
 */
import path from 'node:path';
import type { ChatConfig } from '../config/config-types';

export const MEMORY_LOCATION = 'this process only: every conversation is lost when it stops';

export function storageLocation(storage: ChatConfig['storage'], cwd: string): string {
  switch (storage.backend) {
    case 'memory':
      return MEMORY_LOCATION;
    case 'sqlite':
      return path.resolve(cwd, storage.sqlite.path);
    case 'postgres':
      return `schema ${storage.postgres.schema ?? 'public'} at ${withoutPassword(storage.postgres.url, 'postgres')}`;
    case 'redis':
      return `key prefix ${storage.redis.key_prefix} at ${withoutPassword(storage.redis.url, 'Redis')}`;
  }
}

/**
 * A text that may quote connection URLs (a driver's error, a mistyped `--storage`), with each URL's password replaced
 * by "***": what the binary's commands and the replay CLI print. The password runs to the next "@" even across
 * spaces (a mistyped URL may hold one): hiding a few words too many beats printing part of a password.
 */
export function withoutUrlPasswords(text: string): string {
  return text.replace(/(\/\/[^:/@]*:)[^@]*@/g, '$1***@');
}

/**
 * The URL with any password replaced by "***" (an unparsable one is not shown at all: it might hold one): the user
 * part's, and every parameter named like one (pg's `password`, ioredis's `password` and `sentinelPassword`).
 */
function withoutPassword(url: string, kind: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password !== '') parsed.password = '***';
    for (const name of [...parsed.searchParams.keys()]) if (/password/i.test(name)) parsed.searchParams.set(name, '***');
    return parsed.toString();
  } catch {
    return `(${kind} URL not shown: it does not parse)`;
  }
}
