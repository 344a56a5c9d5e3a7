import { createManualClock } from '../../actors/clock';
import { IntervalBatches } from '../../actors/interval-batches';

/** A conversation's batches on a manual clock, and what each announced. */
function batches() {
  const clock = createManualClock();
  const sent: Array<Record<string, number>> = [];
  const b = new IntervalBatches<number>({ clock, intervalMs: 1000, announce: (positions) => sent.push({ ...positions }) });
  return { clock, sent, b };
}

test('the first raise goes at once; the rest of the interval goes as one batch with each member at its latest', () => {
  const { clock, sent, b } = batches();
  b.changed('alice', 3);
  expect(sent).toEqual([{ alice: 3 }]);
  for (let i = 4; i <= 9; i++) for (const id of ['alice', 'bob', 'carol']) b.changed(id, i);
  expect(sent).toHaveLength(1);
  clock.advance(999);
  expect(sent).toHaveLength(1);
  clock.advance(1);
  expect(sent).toEqual([{ alice: 3 }, { alice: 9, bob: 9, carol: 9 }]);
  // Nothing raised since: nothing to send, and the next raise after a quiet interval goes at once again.
  clock.advance(5000);
  expect(sent).toHaveLength(2);
  b.changed('bob', 10);
  expect(sent[2]).toEqual({ bob: 10 });
});

test('a closed conversation announces nothing more, a batch waiting for its interval included', () => {
  const { clock, sent, b } = batches();
  b.changed('alice', 1);
  b.changed('bob', 2);
  b.close();
  clock.advance(2000);
  b.changed('carol', 3);
  expect(sent).toEqual([{ alice: 1 }]);
});
