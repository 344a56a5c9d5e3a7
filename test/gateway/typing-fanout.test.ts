import { createManualClock } from '../../actors/clock';
import { TYPING_BURST, TYPING_STARTS_PER_SECOND } from '../../gateway/chat-gateway';
import { closeAll, invalidFrames, startHarness } from './harness';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

// Found with 98 people in one room: typing shared the message budget (20/s, burst 40), so each person could have
// 40 typing frames relayed at once and every socket got ~4,000 typing frames in a second (1.3 s of server CPU).
test('typing has its own small budget: a burst of typing frames reaches the others only TYPING_BURST times', async () => {
  const clock = createManualClock();
  const h = await startHarness({}, { clock });
  const conv = await h.createConversation('alice', ['bob', 'carol']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  const carol = await h.connect(conv, 'carol');
  for (let i = 0; i < 30; i++) bob.send({ type: 'typing', is_typing: i % 2 === 0 });
  bob.send({ type: 'message', message_id: 'b0', content: 'typed it' });
  // Frames of one socket are handled in order: when bob's message reaches the others, so has every typing relay.
  await alice.waitFor('message', (f) => f.message.message_id === 'b0');
  await carol.waitFor('message', (f) => f.message.message_id === 'b0');
  expect(alice.frames.filter((f) => f.type === 'typing')).toHaveLength(TYPING_BURST);
  expect(carol.frames.filter((f) => f.type === 'typing')).toHaveLength(TYPING_BURST);
  // The message budget is not the typing budget: bob still posts at once.
  await bob.waitFor('message_ack', (a) => a.message_id === 'b0');

  // The budget refills: one start back after 1 / TYPING_STARTS_PER_SECOND s. A stop of a start nobody heard says
  // nothing new (dropped), the start passes, a second start finds the budget spent.
  clock.advance(1000 / TYPING_STARTS_PER_SECOND);
  bob.send({ type: 'typing', is_typing: false });
  bob.send({ type: 'typing', is_typing: true });
  bob.send({ type: 'typing', is_typing: true });
  bob.send({ type: 'message', message_id: 'b1', content: 'again' });
  await alice.waitFor('message', (f) => f.message.message_id === 'b1');
  const typing = alice.frames.filter((f) => f.type === 'typing');
  expect(typing).toHaveLength(TYPING_BURST + 1);
  expect(typing[TYPING_BURST]).toMatchObject({ participant_id: 'bob', is_typing: true });
});

// Found with a quick chatter in a room of 100: someone sending short lines faster than the budget (true when typing
// starts, false when the line is sent) had a `false` dropped after a `true` got through, and every other socket kept
// showing them typing after they had stopped (until its indicator timed out).
test('the budget never drops the stop of a relayed start: the others last hear is_typing false', async () => {
  const clock = createManualClock();
  const h = await startHarness({}, { clock });
  const conv = await h.createConversation('alice', ['bob']);
  const alice = await h.connect(conv, 'alice');
  const bob = await h.connect(conv, 'bob');
  let line = 0;
  /** What the page sends for one short line: typing starts, the line is sent, typing stops. */
  const quickLine = async (): Promise<void> => {
    const id = `b${line++}`;
    bob.send({ type: 'typing', is_typing: true });
    bob.send({ type: 'typing', is_typing: false });
    bob.send({ type: 'message', message_id: id, content: 'ok' });
    // Frames of one socket are handled in order: when the line reaches alice, so has every typing relay before it.
    await alice.waitFor('message', (f) => f.message.message_id === id);
  };
  for (let i = 0; i < 4; i++) await quickLine();
  // Half a second later, still typing quickly: enough budget back for some of it, not all.
  clock.advance(500);
  for (let i = 0; i < 2; i++) await quickLine();
  clock.advance(250);
  await quickLine();

  const seen = alice.frames.flatMap((f) => (f.type === 'typing' ? [f.is_typing] : []));
  // Every start alice was told of is followed by its stop, and nothing is told twice in a row.
  expect(seen[seen.length - 1]).toBe(false);
  for (let i = 1; i < seen.length; i++) expect(seen[i]).not.toBe(seen[i - 1]);
  // Still bounded: at most TYPING_BURST relayed at once, and one start and its stop per second after that.
  expect(seen.length).toBeLessThanOrEqual(TYPING_BURST + 2);
});
