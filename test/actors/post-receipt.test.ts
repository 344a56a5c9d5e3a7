import { PostReceipt, type JournalProgress } from '../../actors/post-receipt';

/** A journal writer whose progress the test moves by hand. */
function fakeJournal(): JournalProgress & { store(upTo: number): void; waits: number } {
  const waiters: Array<{ seq: number; resolve: () => void }> = [];
  const journal = {
    persistedUpTo: 0,
    waits: 0,
    whenStored(seq: number): Promise<void> {
      journal.waits++;
      if (seq <= journal.persistedUpTo) return Promise.resolve();
      return new Promise<void>((resolve) => waiters.push({ seq, resolve }));
    },
    store(upTo: number): void {
      journal.persistedUpTo = upTo;
      for (const w of waiters.splice(0)) {
        if (w.seq <= upTo) w.resolve();
        else waiters.push(w);
      }
    },
  };
  return journal;
}

describe('PostReceipt', () => {
  it('reads persisted live and makes the whenPersisted promise only when asked, once', async () => {
    const journal = fakeJournal();
    const receipt = new PostReceipt('m1', 5, false, journal);
    expect(receipt.persisted).toBe(false);
    expect(journal.waits).toBe(0);
    const first = receipt.whenPersisted;
    expect(receipt.whenPersisted).toBe(first);
    expect(journal.waits).toBe(1);
    let resolved = false;
    void first.then(() => (resolved = true));
    journal.store(4);
    await Promise.resolve();
    expect(receipt.persisted).toBe(false);
    expect(resolved).toBe(false);
    journal.store(5);
    await first;
    expect(receipt.persisted).toBe(true);
  });

  it('serialises to its plain fields', () => {
    const journal = fakeJournal();
    journal.store(9);
    expect(JSON.parse(JSON.stringify(new PostReceipt('m2', 7, true, journal)))).toEqual({
      message_id: 'm2',
      sequence_id: 7,
      duplicate: true,
      persisted: true,
    });
  });
});
