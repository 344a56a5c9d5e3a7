/** The rule that picks what the next connection attempt offers (client/subprotocol-offer.ts). */
import { createSubprotocolOffer, type Offered } from '../../client/subprotocol-offer';

const SUB = 'nlweb-chat.refusals';

test('offers the subprotocol first, and keeps offering it while handshakes with it complete', () => {
  const offer = createSubprotocolOffer(SUB);
  expect(offer.next()).toBe(SUB);
  offer.completed(SUB);
  expect(offer.next()).toBe(SUB);
});

test('after a failed handshake the next attempt offers the other; a completed handshake makes its choice stick', () => {
  const offer = createSubprotocolOffer(SUB);
  offer.failed(SUB);
  expect(offer.next()).toBeUndefined();
  offer.completed(undefined);
  expect(offer.next()).toBeUndefined();
  expect(offer.next()).toBeUndefined();
});

test('a streak of failed handshakes alternates, so neither choice is ever given up', () => {
  const offer = createSubprotocolOffer(SUB);
  const seen: (Offered | undefined)[] = [];
  for (let i = 0; i < 5; i++) {
    const protocols = offer.next();
    seen.push(protocols);
    offer.failed(protocols);
  }
  expect(seen).toEqual([SUB, undefined, SUB, undefined, SUB]);
  // A failure of a stale attempt (not what the offer would pick now) swaps relative to that attempt.
  offer.completed(SUB);
  offer.failed(undefined);
  expect(offer.next()).toBe(SUB);
});
