import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { ChatMessage, ConversationOutput } from '../../actors';
import { MemoryStore, PostgresStore, SqliteStore, type ChatStore } from '../../storage-providers';
import { PG_URL, dropSchema, uniqueSchema } from '../storage/pg-helpers';

/**
 * One storage location a test can open several times (a "restart" opens a fresh instance on the
 * same file / schema). Memory has a single instance: reopen() returns it.
 */
export interface ProviderFixture {
  readonly name: 'memory' | 'sqlite' | 'postgres';
  readonly durable: boolean;
  /** A new, opened store on this location. */
  open(): Promise<ChatStore>;
  /** `--storage` argument of the replay CLI (durable providers only). */
  readonly replaySpec?: string;
  /** Removes the location (tmp dir / schema). */
  dispose(): Promise<void>;
}

/** application_name of every pool the recovery tests open, so a test can cut exactly its connections. */
export function recoveryAppName(schema: string): string {
  return `nlweb-chat-recovery-${schema}`.slice(0, 63);
}

export function makeTmpDir(prefix = 'nlweb-chat-recovery-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function memoryFixture(): ProviderFixture {
  const store = new MemoryStore();
  return {
    name: 'memory',
    durable: false,
    async open() {
      if (!store.isOpen) await store.open();
      return store;
    },
    async dispose() {
      await store.close();
    },
  };
}

export function sqliteFixture(): ProviderFixture {
  const dir = makeTmpDir();
  const file = path.join(dir, 'chat.db');
  return {
    name: 'sqlite',
    durable: true,
    replaySpec: `sqlite:${file}`,
    async open() {
      const store = new SqliteStore({ path: file });
      await store.open();
      return store;
    },
    async dispose() {
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

export function postgresFixture(): ProviderFixture & { readonly schema: string } {
  const schema = uniqueSchema();
  return {
    name: 'postgres',
    durable: true,
    schema,
    replaySpec: `${PG_URL}?schema=${schema}`,
    async open() {
      const store = new PostgresStore({ url: PG_URL, schema, poolSize: 4, applicationName: recoveryAppName(schema) });
      await store.open();
      return store;
    },
    async dispose() {
      await dropSchema(schema);
    },
  };
}

/** Collects a subscriber's outputs and lets a test await one that matches. */
export function outputCollector() {
  const outputs: ConversationOutput[] = [];
  const waiters: Array<{ match: (o: ConversationOutput) => boolean; resolve: (o: ConversationOutput) => void }> = [];
  return {
    outputs,
    listener(o: ConversationOutput): void {
      outputs.push(o);
      for (const w of [...waiters]) {
        if (!w.match(o)) continue;
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(o);
      }
    },
    get messages(): ChatMessage[] {
      return outputs.flatMap((o) => (o.type === 'message' ? [o.message] : []));
    },
    /** Resolves with the first output (already received or future) that matches. */
    next(match: (o: ConversationOutput) => boolean): Promise<ConversationOutput> {
      const seen = outputs.find(match);
      if (seen) return Promise.resolve(seen);
      return new Promise((resolve) => waiters.push({ match, resolve }));
    },
  };
}

/** Rejects after `ms` with `what` in the message: a bounded wait instead of a jest-wide timeout. */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

/** Sequence ids 1..n exactly, in order. */
export function expectContiguous(records: readonly { sequence_id: number }[]): void {
  const ids = records.map((r) => r.sequence_id);
  expect(ids).toEqual(Array.from({ length: ids.length }, (_, i) => i + 1));
}

/** Reads the whole journal of a conversation. */
export async function readAll(store: ChatStore, conversationId: string): Promise<ChatMessage[]> {
  const out: ChatMessage[] = [];
  for await (const m of store.streamMessages(conversationId)) out.push(m);
  return out;
}

/** A SQLite store whose journal writes can be held forever: the process "dies" before they happen. */
export class HeldSqliteStore extends SqliteStore {
  held = false;
  protected override async _appendMessages(conversationId: string, messages: readonly ChatMessage[], fenceEpoch?: number): Promise<void> {
    if (this.held) await new Promise<never>(() => undefined);
    return super._appendMessages(conversationId, messages, fenceEpoch);
  }
}
