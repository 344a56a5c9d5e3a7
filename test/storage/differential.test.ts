import fc from 'fast-check';
import type { ChatStore } from '../../storage-providers/chat-store';
import { MemoryStore } from '../../storage-providers/memory-store';
import { PostgresStore } from '../../storage-providers/postgres-store';
import { RedisStore } from '../../storage-providers/redis-store';
import { SqliteStore } from '../../storage-providers/sqlite-store';
import { iso, meta, msg, person } from '../../testing/store-contract/fixtures';
import { describeWithPg, dropSchema, PG_URL, pgReachableSync, uniqueSchema } from './pg-helpers';
import { deletePrefix, describeWithRedis, REDIS_URL, redisReachableSync, uniquePrefix } from './redis-helpers';

/**
 * Differential test: random operation sequences run against the memory store (the reference) and
 * another provider must give the same results and the same error codes, step by step.
 */

const conv = fc.constantFrom('a', 'b', 'c');
const user = fc.constantFrom('u1', 'u2', 'u3');
/** `last` reads the reference before the step runs anywhere, so both stores get the same arguments. */
type Op = (store: ChatStore, last: (id: string) => Promise<number>) => Promise<unknown>;

const ops: fc.Arbitrary<{ label: string; run: Op }> = fc.oneof(
  fc.record({ id: conv, t: fc.integer({ min: 0, max: 3 }), u: user }).map(({ id, t, u }) => ({
    label: `create ${id} t${t} with ${u}`,
    run: (s: ChatStore) => s.createConversation(meta(id, t * 1000), [person(u, 0)]),
  })),
  fc.record({ id: conv, u: user, j: fc.integer({ min: 0, max: 5 }) }).map(({ id, u, j }) => ({
    label: `put ${u} in ${id}`,
    run: (s: ChatStore) => s.putParticipant(id, person(u, j)),
  })),
  fc
    .record({ id: conv, u: user })
    .map(({ id, u }) => ({ label: `remove ${u} from ${id}`, run: (s: ChatStore) => s.removeParticipant(id, u) })),
  fc
    .record({
      id: conv,
      offset: fc.integer({ min: -1, max: 2 }),
      n: fc.integer({ min: 1, max: 4 }),
      mid: fc.integer({ min: 0, max: 6 }),
      u: user,
    })
    .map(({ id, offset, n, mid, u }) => ({
      label: `append ${id} at last${offset >= 0 ? '+' : ''}${offset} x${n} mid${mid} by ${u}`,
      run: async (s: ChatStore, last: (id: string) => Promise<number>) => {
        const first = Math.max(1, (await last(id)) + offset);
        // Some bookkeeping records, so the activity preview has records to skip.
        const batch = Array.from({ length: n }, (_, i) =>
          msg(id, first + i, { message_id: `m${mid + i}`, sender_id: u, message_type: (mid + i) % 3 === 0 ? 'agent_job_started' : 'text' }),
        );
        return s.appendMessages(id, batch);
      },
    })),
  fc
    .record({ id: conv, u: user })
    .map(({ id, u }) => ({ label: `redact ${u} in ${id}`, run: (s: ChatStore) => s.redactMessages(id, { senderId: u }) })),
  fc.record({ id: conv, mid: fc.integer({ min: 0, max: 6 }) }).map(({ id, mid }) => ({
    label: `redact m${mid} in ${id}`,
    run: (s: ChatStore) => s.redactMessages(id, { messageIds: [`m${mid}`, 'none'] }),
  })),
  fc
    .record({ id: conv, s: fc.constantFrom('active', 'failed', 'closed') as fc.Arbitrary<'active' | 'failed' | 'closed'> })
    .map(({ id, s: status }) => ({
      label: `status ${id} ${status}`,
      run: (s: ChatStore) => s.updateConversationStatus(id, status),
    })),
  conv.map((id) => ({ label: `delete ${id}`, run: (s: ChatStore) => s.deleteConversation(id) })),
  // Raises and lowers around the journal; unknown conversations must be a no-op everywhere.
  fc.record({ id: conv, upTo: fc.integer({ min: 0, max: 300 }) }).map(({ id, upTo }) => ({
    label: `reserve ${id} up to ${upTo}`,
    run: (s: ChatStore) => s.setSequenceReservation(id, upTo),
  })),
  conv.map((id) => ({ label: `reservation of ${id}`, run: (s: ChatStore) => s.getSequenceReservation(id) })),
);

/** Everything observable, as plain data. */
async function snapshot(s: ChatStore): Promise<unknown> {
  const out: Record<string, unknown> = {};
  for (const id of ['a', 'b', 'c']) {
    out[id] = {
      meta: await s.getConversation(id),
      last: await s.lastSequenceId(id),
      journal: await s.readMessages(id, 0, 1000),
      latest: await s.readLatestMessages(id, 2),
      members: await s.getParticipants(id),
      found: await s.findSequenceByMessageId(id, 'u1', 'm1'),
      reserved: await s.getSequenceReservation(id),
    };
  }
  for (const u of ['u1', 'u2', 'u3'])
    out[u] = [await s.listConversationsForUser(u), await s.listConversationsForUser(u, { includeLeft: true })];
  for (const u of ['u1', 'u2', 'u3']) out[`${u} activity`] = await activityWalk(s, u);
  out.before = await s.listConversationsCreatedBefore(iso(2500));
  return out;
}

/** The user's activity list in pages of 2 (each page's last entry the next one's `after`), and all at once with left ones. */
async function activityWalk(s: ChatStore, user: string): Promise<unknown> {
  const pages: unknown[] = [];
  let after: { activityAt: string; conversationId: string } | undefined;
  for (;;) {
    const page = await s.listConversationActivity(user, { limit: 2, after });
    pages.push(page);
    if (page.length < 2) break;
    after = { activityAt: page[1].activityAt, conversationId: page[1].meta.conversation_id };
  }
  return { pages, withLeft: await s.listConversationActivity(user, { limit: 100, includeLeft: true }) };
}

const outcome = (p: Promise<unknown>) =>
  p.then(
    (value) => ({ ok: value === undefined ? null : value }),
    (err: unknown) => ({ error: (err as { code?: string }).code ?? String(err) }),
  );

async function compare(make: () => Promise<{ store: ChatStore; cleanup: () => Promise<void> }>, steps: Array<{ label: string; run: Op }>) {
  const reference = new MemoryStore();
  const subject = await make();
  await reference.open();
  await subject.store.open();
  try {
    for (const step of steps) {
      // Both stores see the same arguments: the append offset is resolved on the reference first.
      const lasts = new Map<string, number>();
      for (const id of ['a', 'b', 'c']) lasts.set(id, await reference.lastSequenceId(id));
      const last = async (id: string) => lasts.get(id) ?? 0;
      const expected = await outcome(step.run(reference, last));
      const actual = await outcome(step.run(subject.store, last));
      expect({ step: step.label, ...actual }).toEqual({ step: step.label, ...expected });
    }
    expect(await snapshot(subject.store)).toEqual(await snapshot(reference));
  } finally {
    await reference.close();
    await subject.store.close();
    await subject.cleanup();
  }
}

test('sqlite behaves exactly like the memory reference', async () => {
  await fc.assert(
    fc.asyncProperty(fc.array(ops, { minLength: 1, maxLength: 30 }), (steps) =>
      compare(async () => ({ store: new SqliteStore({ path: ':memory:' }), cleanup: async () => undefined }), steps),
    ),
    { numRuns: 150 },
  );
});

describeWithPg(pgReachableSync())('postgres differential', () => {
  test('postgres behaves exactly like the memory reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ops, { minLength: 1, maxLength: 30 }), (steps) =>
        compare(async () => {
          const schema = uniqueSchema();
          return { store: new PostgresStore({ url: PG_URL, poolSize: 2, schema }), cleanup: () => dropSchema(schema) };
        }, steps),
      ),
      { numRuns: 25 },
    );
  }, 60_000);
});

describeWithRedis(redisReachableSync())('redis differential', () => {
  test('redis behaves exactly like the memory reference', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(ops, { minLength: 1, maxLength: 30 }), (steps) =>
        compare(async () => {
          const keyPrefix = uniquePrefix();
          return { store: new RedisStore({ url: REDIS_URL, keyPrefix }), cleanup: () => deletePrefix(keyPrefix) };
        }, steps),
      ),
      { numRuns: 50 },
    );
  }, 60_000);
});
