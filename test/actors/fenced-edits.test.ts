import { createManualClock } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import type { ChatStore } from '../../storage-providers/chat-store';
import { describeWithPg, pgReachableSync } from '../storage/pg-helpers';
import { collector } from './runtime-helpers';
import { ownershipRuntime, refusal, sharedPostgres, sharedSqlite, type SharedDatabase } from './shared-database';

/**
 * An edit, delete or redaction whose store write is held up past the claim check (a GC pause, a VM stall inside the
 * write) while another runtime takes the conversation over: the write is fenced by the claim's epoch, so the new
 * holder's record stays as it was, and the requester gets the holder's coded answer. Found by review: the change
 * waited for a current claim (whenClaimCurrent) but the store write was not fenced, so runtime a rewrote b's record
 * to "[redacted]" (no redaction record told anyone, and b's cache went on replaying the original) and answered success.
 */
const TTL_S = 15;

/** Holds `store`'s record-changing writes (redactMessages, replaceMessageContent) until release(). */
function holdChanges(store: ChatStore) {
  let entered!: () => void;
  const inside = new Promise<void>((resolve) => (entered = resolve));
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  const redact = store.redactMessages.bind(store);
  const replace = store.replaceMessageContent.bind(store);
  store.redactMessages = async (...args) => {
    entered();
    await released;
    return redact(...args);
  };
  store.replaceMessageContent = async (...args) => {
    entered();
    await released;
    return replace(...args);
  };
  return { inside, release };
}

function fencedEditTests(openDatabase: () => Promise<SharedDatabase>): void {
  let db: SharedDatabase;
  const runtimes: ChatRuntime[] = [];

  beforeEach(async () => {
    db = await openDatabase();
  });
  afterEach(async () => {
    for (const runtime of runtimes.splice(0)) await runtime.close({ deadlineMs: 1000 });
    await db.close();
  });

  async function server(name: string, store: ChatStore): Promise<ChatRuntime> {
    const runtime = await ownershipRuntime(name, store, createManualClock(), TTL_S);
    runtimes.push(runtime);
    return runtime;
  }

  const changes: Array<[string, (a: ChatRuntime, alices: string, bobs: string) => Promise<unknown>]> = [
    ["the owner's redaction (redactMessages)", (a, alices) => a.redact('c', { messageIds: [alices] }, 'alice')],
    ["a member's edit of its message (replaceMessageContent)", (a, alices) => a.edit('c', 'alice', alices, 'edited on a')],
    ["a member's delete of its message (replaceMessageContent)", (a, _alices, bobs) => a.redact('c', { messageIds: [bobs] }, 'bob')],
  ];

  test.each(changes)(
    '%s held in the store write while b takes over: b keeps the record, the requester is told b holds it',
    async (_name, change) => {
      const a = await server('a', db.a);
      await a.createConversation({
        conversation_id: 'c',
        created_by: 'alice',
        participants: [{ participant_id: 'bob', participant_type: 'human' }],
      });
      const fromAlice = await a.post('c', { sender_id: 'alice', message_id: 'a1', content: 'from alice' });
      const fromBob = await a.post('c', { sender_id: 'bob', message_id: 'b1', content: 'from bob' });
      await Promise.all([fromAlice.whenPersisted, fromBob.whenPersisted]);
      const watcher = collector();
      await a.subscribe('c', 'bob', watcher.listener);
      const held = holdChanges(db.a);

      // a's claim is current when the change checks it (no time passed on a's clock); then its write stalls.
      const changing = change(a, 'a1', 'b1');
      await held.inside;
      await db.expireClaims();
      const b = await server('b', db.b);
      const onB = await b.post('c', { sender_id: 'bob', message_id: 'b2', content: 'on b' });
      await onB.whenPersisted;
      const before = await db.b.readMessages('c', 0, 100);

      held.release();
      const refused = await refusal(changing);
      expect(refused.code).toBe('CHAT_ERR_OWNED_ELSEWHERE');
      expect(refused.details).toMatchObject({ conversation_id: 'c', owner_id: 'b', owner_address: 'ws://b.example:8000' });
      // Nothing changed in b's journal, and b's own view (its cache) agrees with it.
      expect(await db.b.readMessages('c', 0, 100)).toEqual(before);
      const seenOnB = (await b.readMessages('c', 0, 100, 'bob')).filter((m) => m.message_type === 'text' || m.message_type === 'redaction');
      expect(seenOnB.map((m) => m.content)).toEqual(['from alice', 'from bob', 'on b']);
      // The conversation moved away from a, as when a journal append is fenced: its subscriber is told so.
      expect(watcher.messages).toEqual([]);
      expect(watcher.outputs).toContainEqual({ type: 'closed', reason: 'moved' });
    },
  );
}

describe('an edit or redaction fenced in the store after a takeover (SQLite, two connections on one file)', () => {
  fencedEditTests(() => sharedSqlite(TTL_S * 1000));
});

describeWithPg(pgReachableSync())('an edit or redaction fenced in the store after a takeover (PostgreSQL, two pools on one schema)', () => {
  fencedEditTests(sharedPostgres);
});
