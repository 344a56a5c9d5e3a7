import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createChatRuntime, createCounterIds, type ManualClock } from '../../actors';
import { isChatError, type ChatError } from '../../actors/errors';
import type { ChatRuntime } from '../../actors/runtime-types';
import type { Logger } from '../../observability/logger';
import type { ChatStore } from '../../storage-providers/chat-store';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { dropSchema, PG_URL, uniqueSchema, withClient } from '../storage/pg-helpers';

/**
 * Two servers' stores on one database, for tests of conversation claims between runtimes (claim-lapse.test.ts,
 * fenced-edits.test.ts), and the runtimes they run: SQLite (two connections on one file) and PostgreSQL (two pools on one schema).
 */
export interface SharedDatabase {
  readonly a: ChatStore;
  readonly b: ChatStore;
  /** Time passes for the database (and the other server) beyond every claim's TTL. */
  expireClaims(): Promise<void>;
  close(): Promise<void>;
}

/** A SQLite file in a fresh directory; `ttlMs`: how far expireClaims moves the database's clock (past it). */
export async function sharedSqlite(ttlMs: number): Promise<SharedDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-shared-db-'));
  const file = path.join(dir, 'chat.db');
  // The database's clock: claims expire on it, apart from either runtime's.
  let now = Date.UTC(2026, 0, 1);
  const a = new SqliteStore({ path: file, now: () => now });
  const b = new SqliteStore({ path: file, now: () => now });
  await Promise.all([a.open(), b.open()]);
  return {
    a,
    b,
    expireClaims: async () => void (now += ttlMs + 1),
    close: async () => {
      await a.close();
      await b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A fresh schema of the test database, dropped on close. */
export async function sharedPostgres(): Promise<SharedDatabase> {
  const schema = uniqueSchema();
  const a = new PostgresStore({ url: PG_URL, poolSize: 4, schema });
  const b = new PostgresStore({ url: PG_URL, poolSize: 4, schema });
  await Promise.all([a.open(), b.open()]);
  return {
    a,
    b,
    // Claims expire on the database's clock: moved back instead of waiting a TTL.
    expireClaims: async () =>
      void (await withClient((c) => c.query(`UPDATE "${schema}".conversations SET owner_expires_at = 0 WHERE owner_id IS NOT NULL`))),
    close: async () => {
      await a.close();
      await b.close();
      await dropSchema(schema);
    },
  };
}

/** A runtime named `name` on `store`, claiming as `name` with the address `ws://<name>.example:8000`. */
export function ownershipRuntime(
  name: string,
  store: ChatStore,
  clock: ManualClock,
  claimTtlS: number,
  logger?: Logger,
): Promise<ChatRuntime> {
  return createChatRuntime({
    ...(logger ? { logger } : {}),
    config: {
      observability: { log_level: 'silent' },
      chat: { ownership: { instance_id: name, address: `ws://${name}.example:8000`, claim_ttl_s: claimTtlS } },
    },
    storage: store,
    clock,
    ids: createCounterIds(name),
  });
}

/** The ChatError `promise` rejects with (fails when it resolves, or rejects with something else). */
export async function refusal(promise: Promise<unknown>): Promise<ChatError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  if (!isChatError(err)) throw new Error(`expected a ChatError, got ${String(err)}`);
  return err;
}
