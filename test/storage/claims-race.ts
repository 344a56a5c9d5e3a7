import { isChatError } from '../../actors/errors';
import type { ChatStore } from '../../storage-providers/chat-store';
import type { ClaimResult } from '../../storage-providers/conversation-claims';
import { expectCode } from '../../testing';
import { meta, msg, msgs } from '../../testing/store-contract/fixtures';

/**
 * Checks of conversation claims across two store instances on one database (two servers), shared by
 * the SQL providers' tests. `a` and `b` are open stores on the same location.
 */

const HOUR = 3_600_000;

/**
 * `rounds` fresh conversations, each claimed `perRound` times at once, alternately by owner A through `a`
 * and owner B through `b`: exactly one owner wins each round, its claims got distinct epochs 1..n (a
 * claim by the holder itself succeeds and raises the epoch), and every refused claim names the winner.
 */
export async function raceClaims(a: ChatStore, b: ChatStore, rounds: number, perRound: number): Promise<void> {
  expect([a.supports.claims, b.supports.claims]).toEqual([true, true]);
  for (let round = 0; round < rounds; round++) {
    const id = `race-${round}`;
    await a.createConversation(meta(id));
    const claims: Array<Promise<ClaimResult>> = [];
    for (let i = 0; i < perRound; i++) {
      const viaA = i % 2 === 0;
      claims.push((viaA ? a : b).claimConversation(id, { ownerId: viaA ? 'A' : 'B', ttlMs: HOUR, address: viaA ? 'a:1' : 'b:1' }));
    }
    const results = await Promise.all(claims);
    const winners = new Set(results.flatMap((r) => (r.claimed ? [r.claim.ownerId] : [])));
    expect(winners.size).toBe(1);
    const [winner] = winners;
    const epochs = results.flatMap((r) => (r.claimed ? [r.claim.epoch] : [])).sort((x, y) => x - y);
    expect(epochs).toEqual(epochs.map((_, i) => i + 1));
    for (const r of results) {
      if (r.claimed) continue;
      expect(r.holder.ownerId).toBe(winner);
      expect(r.holder.address).toBe(winner === 'A' ? 'a:1' : 'b:1');
    }
    // The loser's store agrees on who holds it.
    const loserStore = winner === 'A' ? b : a;
    const again = await loserStore.claimConversation(id, { ownerId: winner === 'A' ? 'B' : 'A', ttlMs: HOUR });
    expect(again).toMatchObject({ claimed: false, holder: { ownerId: winner } });
  }
}

/**
 * A claims with ttl 0 through `a` and writes; B takes over through `b`; A's next writes are fenced and
 * change nothing, B's go through.
 */
export async function fencedAfterTakeover(a: ChatStore, b: ChatStore): Promise<void> {
  expect([a.supports.claims, b.supports.claims]).toEqual([true, true]);
  await a.createConversation(meta('c1'));
  const held = await a.claimConversation('c1', { ownerId: 'A', ttlMs: 0 });
  if (!held.claimed) throw new Error('A should hold c1');
  await a.appendMessages('c1', msgs('c1', 1, 2), held.claim);
  await a.setSequenceReservation('c1', 10, held.claim);
  const taken = await b.claimConversation('c1', { ownerId: 'B', ttlMs: HOUR });
  if (!taken.claimed) throw new Error('B should take c1 over');
  expect(taken.claim.epoch).toBe(held.claim.epoch + 1);
  await expectCode(a.appendMessages('c1', [msg('c1', 3)], held.claim), 'STORAGE_ERR_FENCED');
  await expectCode(a.setSequenceReservation('c1', 20, held.claim), 'STORAGE_ERR_FENCED');
  expect(await b.lastSequenceId('c1')).toBe(2);
  expect(await b.getSequenceReservation('c1')).toBe(10);
  await b.appendMessages('c1', [msg('c1', 3)], taken.claim);
  expect(await a.lastSequenceId('c1')).toBe(3);
}

/**
 * A appends one record at a time under its claim while B takes the conversation over. Once B's claim
 * has resolved, no append of A may be stored any more: the last sequence id read right after the
 * takeover is the final one, and A's loop ends with STORAGE_ERR_FENCED. An epoch check made outside
 * the append's lock would let an append that read the old epoch before the takeover store after it.
 */
export async function appendsRacingTakeover(a: ChatStore, b: ChatStore, rounds: number): Promise<void> {
  expect([a.supports.claims, b.supports.claims]).toEqual([true, true]);
  for (let round = 0; round < rounds; round++) {
    const id = `takeover-${round}`;
    await a.createConversation(meta(id));
    const held = await a.claimConversation(id, { ownerId: 'A', ttlMs: 0 });
    if (!held.claimed) throw new Error('A should hold the conversation');
    const { threeDone, writer } = writeUntilFenced(100_000, (seq) => a.appendMessages(id, [msg(id, seq)], held.claim));
    // B takes over while A keeps appending (A has stored three records by then).
    await Promise.race([threeDone, writer]);
    const taken = await b.claimConversation(id, { ownerId: 'B', ttlMs: HOUR });
    expect(taken.claimed).toBe(true);
    const atTakeover = await b.lastSequenceId(id);
    const storedByA = await writer;
    expect(storedByA).toBe(atTakeover);
    expect(await b.lastSequenceId(id)).toBe(atTakeover);
  }
}

/**
 * As appendsRacingTakeover, for changes of stored records: A redacts its records one at a time under its claim while B
 * takes the conversation over. Once B's claim has resolved no redaction of A may be stored: the records B reads
 * redacted right after the takeover are the final ones, and exactly those A's loop made before it was fenced.
 */
export async function redactionsRacingTakeover(a: ChatStore, b: ChatStore, rounds: number): Promise<void> {
  const records = 500;
  for (let round = 0; round < rounds; round++) {
    const id = `redact-takeover-${round}`;
    await a.createConversation(meta(id));
    const held = await a.claimConversation(id, { ownerId: 'A', ttlMs: 0 });
    if (!held.claimed) throw new Error('A should hold the conversation');
    await a.appendMessages(id, msgs(id, 1, records), held.claim);
    const { threeDone, writer } = writeUntilFenced(records, (seq) => a.redactMessages(id, { messageIds: [`${id}-m${seq}`] }, held.claim));
    await Promise.race([threeDone, writer]);
    expect((await b.claimConversation(id, { ownerId: 'B', ttlMs: HOUR })).claimed).toBe(true);
    const redactedAt = async () => (await b.readMessages(id, 0, records)).filter((m) => m.metadata.redacted === true).length;
    const atTakeover = await redactedAt();
    expect(await writer).toBe(atTakeover);
    expect(await redactedAt()).toBe(atTakeover);
  }
}

/**
 * Calls write(1), write(2), ... up to `limit` until one is refused STORAGE_ERR_FENCED: `writer` answers how many were
 * made before (it fails if none was refused); `threeDone` resolves once three were made.
 */
function writeUntilFenced(limit: number, write: (seq: number) => Promise<unknown>) {
  let started!: () => void;
  const threeDone = new Promise<void>((resolve) => (started = resolve));
  const writer = (async () => {
    for (let seq = 1; seq <= limit; seq++) {
      try {
        await write(seq);
        if (seq === 3) started();
      } catch (err) {
        if (isChatError(err, 'STORAGE_ERR_FENCED')) return seq - 1;
        throw err;
      }
    }
    throw new Error('A was never fenced');
  })();
  return { threeDone, writer };
}

/** The checks above as tests, for a provider's describe block; `pair` gives its two open instances. */
export function claimTestsAcrossInstances(pair: () => [ChatStore, ChatStore]): void {
  test('20 concurrent claims of one conversation from two owners: exactly one winner per round, the loser sees it', async () => {
    await raceClaims(...pair(), 5, 20);
  });
  test('a takeover fences the old holder: its append and reservation are refused and change nothing', async () => {
    await fencedAfterTakeover(...pair());
  });
  test('appends racing a takeover: none is stored after the takeover committed', async () => {
    await appendsRacingTakeover(...pair(), 5);
  });
  test('redactions racing a takeover: none is stored after the takeover committed', async () => {
    await redactionsRacingTakeover(...pair(), 5);
  });
}
