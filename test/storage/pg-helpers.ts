import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import path from 'node:path';
import { Client } from 'pg';

/** The PostgreSQL the tests use (trust auth, database `test`, shared by many test files). */
export const PG_URL = process.env.NLWEB_CHAT_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * Whether PostgreSQL answers, decided synchronously (in a child process) so a test file can
 * choose between describe and describe.skip while jest collects tests.
 */
export function pgReachableSync(url = PG_URL): boolean {
  const script =
    "const {Client}=require('pg');const c=new Client({connectionString:process.argv[1],connectionTimeoutMillis:3000});" +
    'c.connect().then(()=>c.end()).then(()=>process.exit(0),()=>process.exit(1));';
  const result = spawnSync(process.execPath, ['-e', script, url], { cwd: path.resolve(__dirname, '../..'), timeout: 8000 });
  return result.status === 0;
}

/**
 * `describe` when PostgreSQL is reachable or when running in CI (where an unreachable database
 * must fail the run); otherwise `describe.skip` with a console note.
 */
export function describeWithPg(reachable: boolean): jest.Describe {
  if (reachable || process.env.CI) return describe;
  console.warn(`PostgreSQL at ${PG_URL} is unreachable: skipping PostgreSQL tests (they fail in CI)`);
  return describe.skip;
}

/** A schema name no other test run uses. */
export function uniqueSchema(): string {
  return `nlweb_chat_test_${process.pid}_${crypto.randomBytes(4).toString('hex')}`;
}

/** Runs `fn` on a short-lived client (for set-up, inspection and schema removal). */
export async function withClient<T>(fn: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client({ connectionString: PG_URL, connectionTimeoutMillis: 5000 });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

export async function dropSchema(schema: string): Promise<void> {
  await withClient((c) => c.query(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`));
}
