import { MemoryStore } from '../../storage-providers';
import { restartingAfterBobPosted } from './held-restart';
import { settle } from './runtime-helpers';

/**
 * ConversationActor.whenClaimCurrent, which an edit, delete or redaction waits for before it changes the store
 * (message-edits.ts), while the machine is rebuilt after a crash: the lease runs its waiting work at the first chance
 * then (a restart, a failure or a stop lets it pass, claim or not), so a renewal answer too old to vouch for the claim
 * let the change through with the claim lapsed by the runtime's own clock (found by review). The memory store with
 * claims, the restart's first read held; the runtime's clock a manual one.
 */
const TTL_S = 15;
const TTL_MS = TTL_S * 1000;

/** Holds each claim renewal of `store` until answer(i) lets the i-th one reach the store. */
function heldRenewals(store: MemoryStore) {
  const renew = store.renewClaims.bind(store);
  const held: Array<() => void> = [];
  store.renewClaims = (ownerId, ttlMs) => new Promise((resolve, reject) => held.push(() => renew(ownerId, ttlMs).then(resolve, reject)));
  return {
    get asked(): number {
      return held.length;
    },
    answer: (i: number) => held[i](),
  };
}

/**
 * Conversation `c` (bob's `b1` stored) restarting after a crash, its rebuild held; the runtime then paused past its
 * claim with the renewal asked before the pause held; bob's delete of `b1` asked, and that stale renewal answered.
 */
async function deleteWaitingInRestart() {
  const { store, runtime, clock } = await restartingAfterBobPosted({ claimTtlS: TTL_S });
  const renewals = heldRenewals(store);
  // The renewal due at a third of the TTL starts and hangs; the process is paused past its claim and wakes.
  clock.advance(TTL_MS / 3);
  expect(renewals.asked).toBe(1);
  clock.jump(TTL_MS);
  clock.advance(0);

  const deleting = runtime.redact('c', { messageIds: ['b1'] }, 'bob');
  const state = { settled: false };
  deleting.then(
    () => (state.settled = true),
    () => (state.settled = true),
  );
  await settle();
  const b1 = async () => (await store.readMessages('c', 0, 10)).find((m) => m.message_id === 'b1')?.content;
  expect(await b1()).toBe('oops');
  // The renewal asked before the pause answers: good until long ago, it vouches for nothing now.
  renewals.answer(0);
  await settle();
  return { store, runtime, renewals, deleting, state, b1 };
}

test("a delete asked while the machine restarts with the claim lapsed waits for a renewal that vouches for now, not a stale one's answer", async () => {
  const { store, runtime, renewals, deleting, state, b1 } = await deleteWaitingInRestart();
  try {
    expect(await b1()).toBe('oops');
    expect(state.settled).toBe(false);
    // The machine runs again; the delete still waits for the claim, and a renewal is asked for it.
    store.release();
    await settle();
    expect(await b1()).toBe('oops');
    expect(state.settled).toBe(false);
    expect(renewals.asked).toBe(2);
    // Asked after the pause, its answer vouches for now: the delete goes on.
    renewals.answer(1);
    expect((await deleting).redacted).toHaveLength(1);
    expect(await b1()).toBe('[redacted]');
  } finally {
    store.release();
    await runtime.close();
  }
});

test('a delete held for the rebuilt machine is refused when the conversation stops first (shutdown), not left waiting', async () => {
  const { store, runtime, deleting, b1 } = await deleteWaitingInRestart();
  try {
    const closing = runtime.close({ deadlineMs: 1000 });
    const refused = await deleting.then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(refused).toMatchObject({ code: 'CHAT_ERR_CLOSED' });
    store.release();
    await closing;
    expect(await b1()).toBe('oops');
  } finally {
    store.release();
    await runtime.close();
  }
});
