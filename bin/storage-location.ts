/**
 * Where the server keeps its conversations, as the ready line says it: an operator reading `"storage":"memory"`
 * could not tell that a restart empties it, nor which file `sqlite` writes (a relative path resolves against the
 * directory the server was started in). PostgreSQL: the schema and the URL, the URL without its password (in the
 * user part or a `password` parameter); the schema is a setting of its own (chat.storage.postgres.schema), so the URL
 * alone did not tell two deployments sharing one database apart. Redis: the key prefix and the URL, likewise.
 */
import path from 'node:path';
import type { ChatConfig } from '../config/config-types';
import { urlWithoutPasswords } from '../storage-providers/url-passwords';

export const MEMORY_LOCATION = 'this process only: every conversation is lost when it stops';

export function storageLocation(storage: ChatConfig['storage'], cwd: string): string {
  switch (storage.backend) {
    case 'memory':
      return MEMORY_LOCATION;
    case 'sqlite':
      return path.resolve(cwd, storage.sqlite.path);
    case 'postgres':
      return `schema ${storage.postgres.schema ?? 'public'} at ${urlWithoutPasswords(storage.postgres.url, 'postgres')}`;
    case 'redis':
      return `key prefix ${storage.redis.key_prefix} at ${urlWithoutPasswords(storage.redis.url, 'Redis')}`;
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
