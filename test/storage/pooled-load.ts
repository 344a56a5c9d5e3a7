import type { ChatMessage } from '../../actors/message-types';
import type { ChatStore } from '../../storage-providers/chat-store';
import { meta, msg } from '../../testing/store-contract/fixtures';

/**
 * What two servers do to shared conversations, run at once through two stores on one database: each round, for every
 * conversation, both servers try to claim it; the one that gets it reads the last id, appends two records under its
 * claim, raises the reservation and lets the claim go; both read the conversation and renew their claims. Claims
 * serialise the writers, so nothing in it should fail: every rejection is a failure the caller counts.
 */

const HOUR = 3_600_000;

export interface LoadFailure {
  readonly operation: string;
  /** The driver's SQLSTATE under the coded error (42P05: a statement name prepared twice on one server connection). */
  readonly sqlState: string | undefined;
  readonly message: string;
}

export interface LoadResult {
  readonly operations: number;
  readonly failures: readonly LoadFailure[];
  /** The records each conversation's appends were acknowledged for, in the order they were. */
  readonly acknowledged: ReadonlyMap<string, readonly ChatMessage[]>;
}

export async function runClaimAndAppendLoad(servers: readonly ChatStore[], conversations: number, rounds: number): Promise<LoadResult> {
  const ids = Array.from({ length: conversations }, (_, i) => `load-${i}`);
  for (const id of ids) await servers[0].createConversation(meta(id));
  const failures: LoadFailure[] = [];
  const acknowledged = new Map<string, ChatMessage[]>(ids.map((id) => [id, []]));
  let operations = 0;

  /** `work`'s value, or undefined once its failure is counted. */
  async function attempt<T>(operation: string, work: () => Promise<T>): Promise<T | undefined> {
    operations++;
    try {
      return await work();
    } catch (err) {
      const cause = (err as { cause?: { code?: unknown } }).cause;
      failures.push({ operation, sqlState: typeof cause?.code === 'string' ? cause.code : undefined, message: String(err) });
      return undefined;
    }
  }

  async function turn(store: ChatStore, ownerId: string, id: string): Promise<void> {
    const won = await attempt('claim', () => store.claimConversation(id, { ownerId, ttlMs: HOUR }));
    if (won?.claimed) {
      const last = await attempt('lastSequenceId', () => store.lastSequenceId(id));
      const batch = last === undefined ? undefined : [msg(id, last + 1), msg(id, last + 2)];
      if (batch && (await attempt('append', () => store.appendMessages(id, batch, won.claim).then(() => true)))) {
        acknowledged.get(id)!.push(...batch);
        await attempt('reserve', () => store.setSequenceReservation(id, batch[1].sequence_id + 8, won.claim));
      }
      await attempt('release', () => store.releaseClaim(id, won.claim));
    }
    await attempt('read', () => store.readMessages(id, 0, 1000));
  }

  for (let round = 0; round < rounds; round++) {
    const work = servers.flatMap((store, s) => {
      const ownerId = `server-${s}`;
      return [...ids.map((id) => turn(store, ownerId, id)), attempt('renew', () => store.renewClaims(ownerId, HOUR))];
    });
    await Promise.all(work);
  }
  return { operations, failures, acknowledged };
}
