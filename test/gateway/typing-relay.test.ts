import { createManualClock } from '../../actors/clock';
import { createRateLimiter } from '../../gateway/rate-limiter';
import { TypingRelay } from '../../gateway/typing-relay';

const bob = { typingKey: 'c\u0000bob\u0000typing', conversationId: 'c', userId: 'bob' };

/** A relay with a budget of 1 start a second, burst 3; `typing` is who the conversation holds as typing. */
function relay() {
  const clock = createManualClock();
  const typing = new Set<string>();
  const r = new TypingRelay(createRateLimiter({ perSecond: 1, burst: 3, clock }), clock, (conversationId, participantId) =>
    typing.has(`${conversationId}/${participantId}`),
  );
  return { clock, typing, r };
}

describe('TypingRelay', () => {
  it('passes the stop of a relayed start once; a stop of nothing relayed is dropped', () => {
    const { r } = relay();
    expect(r.admit(bob, false)).toBe(false);
    expect(r.admit(bob, true)).toBe(true);
    expect(r.admit(bob, false)).toBe(true);
    expect(r.admit(bob, false)).toBe(false);
  });

  it('keeps an old start while the conversation holds the member typing, so its stop passes however late', () => {
    const { clock, typing, r } = relay();
    typing.add('c/bob');
    r.admit(bob, true);
    clock.advance(10 * 60_000);
    r.sweep();
    expect(r.admit(bob, false)).toBe(true);
  });

  it('forgets a start a minute old once the conversation no longer holds it typing (bounded by who types now)', () => {
    const { clock, typing, r } = relay();
    typing.add('c/bob');
    r.admit(bob, true);
    typing.delete('c/bob');
    clock.advance(59_999);
    r.sweep();
    // Not yet a minute: kept, whatever the conversation says (the start may still be on its way to it).
    expect(r.admit(bob, false)).toBe(true);
    r.admit(bob, true);
    clock.advance(60_000);
    r.sweep();
    expect(r.admit(bob, false)).toBe(false);
  });
});
