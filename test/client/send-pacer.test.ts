/**
 * The client's token bucket for its messages (client/send-pacer.ts) on a manual clock: it fills and empties as the
 * server's (gateway/rate-limiter.ts) does, outlives a reconnect, follows a refusal's wait, and paces nothing when the
 * server announced no budget. paced-sends.test.ts runs it against the real server.
 */
import { createManualClock, type ManualClock } from '../../actors/clock';
import { createSendPacer, type SendPacer } from '../../client/send-pacer';

let clock: ManualClock;
let pacer: SendPacer;

/** Spends `n` tokens the pacer says are there. */
function spend(n: number): void {
  for (let i = 0; i < n; i++) {
    expect(pacer.waitMs()).toBe(0);
    pacer.spend();
  }
}

beforeEach(() => {
  clock = createManualClock();
  pacer = createSendPacer(clock);
});

test('no budget announced (a server older than it): nothing waits', () => {
  spend(1000);
  pacer.setBudget({ perSecond: 2, burst: 1 });
  pacer.setBudget(undefined);
  spend(1000);
});

test('the burst at once, then a token every 1/perSecond, never more than the burst', () => {
  pacer.setBudget({ perSecond: 4, burst: 3 });
  spend(3);
  expect(pacer.waitMs()).toBe(250);
  // Not one millisecond early (the wait itself may round up past the 1 ms left).
  clock.advance(249);
  expect(pacer.waitMs()).toBeGreaterThan(0);
  clock.advance(1);
  spend(1);
  clock.advance(60_000);
  spend(3);
  expect(pacer.waitMs()).toBe(250);
});

test('a fractional rate waits as the server computes its retry_after_ms (rounded up)', () => {
  pacer.setBudget({ perSecond: 3, burst: 1 });
  spend(1);
  expect(pacer.waitMs()).toBe(334);
  clock.advance(333);
  expect(pacer.waitMs()).toBeGreaterThan(0);
  clock.advance(1);
  spend(1);
});

test('the bucket outlives a reconnect to the same budget; a smaller burst caps it, a larger one adds nothing', () => {
  pacer.setBudget({ perSecond: 2, burst: 4 });
  spend(4);
  clock.advance(1000);
  // The server's bucket is as this client left it, refilled meanwhile: two tokens, not a fresh four.
  pacer.setBudget({ perSecond: 2, burst: 4 });
  spend(2);
  expect(pacer.waitMs()).toBe(500);
  clock.advance(2000);
  pacer.setBudget({ perSecond: 2, burst: 2 });
  spend(2);
  expect(pacer.waitMs()).toBe(500);
  pacer.setBudget({ perSecond: 2, burst: 10 });
  expect(pacer.waitMs()).toBe(500);
});

test('after a budget was announced once more, following a server without one, the bucket starts full again', () => {
  pacer.setBudget({ perSecond: 1, burst: 2 });
  spend(2);
  pacer.setBudget(undefined);
  pacer.setBudget({ perSecond: 1, burst: 2 });
  spend(2);
  expect(pacer.waitMs()).toBe(1000);
});

test("a refusal's retry_after_ms brings the bucket down to the server's; a later one that says less takes nothing back", () => {
  pacer.setBudget({ perSecond: 2, burst: 4 });
  spend(1);
  // Another tab spent the rest and more: the server's next token is 1.5 s away.
  pacer.serverRefused(1500);
  expect(pacer.waitMs()).toBe(1500);
  pacer.serverRefused(10);
  expect(pacer.waitMs()).toBe(1500);
  clock.advance(1500);
  spend(1);
  expect(pacer.waitMs()).toBe(500);
});

test('a wall clock set back (NTP, by hand) spends no tokens: the bucket waits for time to pass again', () => {
  // The client's default clock is Date.now, which can go backwards; the elapsed time is never negative.
  let now = Date.UTC(2026, 0, 1);
  const wallPacer = createSendPacer({ now: () => now });
  wallPacer.setBudget({ perSecond: 2, burst: 4 });
  expect(wallPacer.waitMs()).toBe(0);
  wallPacer.spend();
  now -= 3_600_000;
  // Three tokens left: a negative hour at 2/s would have taken 7,200 and held every send for an hour.
  for (let i = 0; i < 3; i++) {
    expect(wallPacer.waitMs()).toBe(0);
    wallPacer.spend();
  }
  expect(wallPacer.waitMs()).toBe(500);
  now += 500;
  expect(wallPacer.waitMs()).toBe(0);
});

test('a refund gives back the token a message spent (the server refused it before its budget check), never past the burst', () => {
  pacer.setBudget({ perSecond: 4, burst: 2 });
  spend(2);
  expect(pacer.waitMs()).toBe(250);
  pacer.refund();
  spend(1);
  expect(pacer.waitMs()).toBe(250);
  clock.advance(60_000);
  pacer.refund();
  spend(2);
  expect(pacer.waitMs()).toBe(250);
});
