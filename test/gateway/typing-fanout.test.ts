import { createManualClock } from '../../actors/clock';
import { TYPING_BURST, TYPING_PER_SECOND } from '../../gateway/chat-gateway';
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

  // The budget refills: one token back after 1 / TYPING_PER_SECOND s.
  clock.advance(1000 / TYPING_PER_SECOND);
  bob.send({ type: 'typing', is_typing: false });
  bob.send({ type: 'typing', is_typing: true });
  bob.send({ type: 'message', message_id: 'b1', content: 'again' });
  await alice.waitFor('message', (f) => f.message.message_id === 'b1');
  const typing = alice.frames.filter((f) => f.type === 'typing');
  expect(typing).toHaveLength(TYPING_BURST + 1);
  expect(typing[TYPING_BURST]).toMatchObject({ participant_id: 'bob', is_typing: false });
});
