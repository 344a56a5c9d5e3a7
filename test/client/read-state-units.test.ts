/**
 * The chat page's read-state rules without a browser: the unread badge's label and when the list shows a count
 * (unread-badge.ts), the "Seen by" wording (seen-by.ts), and how often the page marks read (read-marker.ts, on a
 * manual clock). The page itself: chat-page-read-state-browser.test.ts.
 */
import { createReadMarker, MARK_READ_INTERVAL_MS } from '../../client/web/read-marker';
import { seenByText } from '../../client/web/seen-by';
import { UNREAD_COUNT_CAP, unreadLabel, unreadShown } from '../../client/web/unread-badge';

describe('unread badge', () => {
  test('no badge at 0 (or from a server without counts), the count up to 999, "999+" at the server cap', () => {
    expect([undefined, 0, 1, 42, 999, UNREAD_COUNT_CAP].map(unreadLabel)).toEqual(['', '', '1', '42', '999', '999+']);
  });

  test('the open conversation shows none; one the page marked read up to its last record shows none', () => {
    const entry = { conversation_id: 'trip', last_sequence_id: 9, unread_count: 3 };
    expect(unreadShown(entry, undefined, new Map())).toBe(3);
    expect(unreadShown(entry, 'trip', new Map())).toBe(0);
    expect(unreadShown(entry, 'other', new Map([['trip', 9]]))).toBe(0);
    // Records came after the page's mark: the server's count holds.
    expect(unreadShown(entry, 'other', new Map([['trip', 7]]))).toBe(3);
  });
});

test('"Seen by" names up to three readers, then counts the others', () => {
  expect(seenByText(['alice'])).toBe('Seen by alice');
  expect(seenByText(['alice', 'Bob B.'])).toBe('Seen by alice and Bob B.');
  expect(seenByText(['alice', 'Bob B.', 'carol'])).toBe('Seen by alice, Bob B. and carol');
  expect(seenByText(['alice', 'Bob B.', 'carol', 'dan'])).toBe('Seen by alice, Bob B., carol and 1 other');
  expect(seenByText(['a', 'b', 'c', 'd', 'e'])).toBe('Seen by a, b, c and 2 others');
});

describe('read marker', () => {
  function setup() {
    let now = 0;
    const timers: Array<{ at: number; fn: () => void }> = [];
    const state = { visible: true, bottom: true, last: 0 };
    const marks: number[] = [];
    const marker = createReadMarker({
      isVisible: () => state.visible,
      atBottom: () => state.bottom,
      lastShown: () => state.last,
      markRead: (id) => marks.push(id),
      now: () => now,
      setTimer: (fn, ms) => {
        const t = { at: now + ms, fn };
        timers.push(t);
        return t;
      },
      clearTimer: (t) => timers.splice(timers.indexOf(t as (typeof timers)[number]), 1),
    });
    const advance = (ms: number): void => {
      now += ms;
      for (const t of timers.filter((x) => x.at <= now)) {
        timers.splice(timers.indexOf(t), 1);
        t.fn();
      }
    };
    return { state, marks, marker, advance, timers };
  }

  test('a burst of 50 records is two calls: the first at once, the latest at the interval end', () => {
    const { state, marks, marker, advance } = setup();
    for (let id = 1; id <= 50; id += 1) {
      state.last = id;
      marker.check();
    }
    expect(marks).toEqual([1]);
    advance(MARK_READ_INTERVAL_MS);
    expect(marks).toEqual([1, 50]);
    // Nothing new: checks call nothing.
    advance(MARK_READ_INTERVAL_MS);
    marker.check();
    advance(MARK_READ_INTERVAL_MS);
    expect(marks).toEqual([1, 50]);
  });

  test('hidden or scrolled up marks nothing; the next check once visible at the end marks the latest', () => {
    const { state, marks, marker, advance } = setup();
    state.visible = false;
    state.last = 4;
    marker.check();
    state.visible = true;
    state.bottom = false;
    advance(MARK_READ_INTERVAL_MS);
    marker.check();
    expect(marks).toEqual([]);
    state.bottom = true;
    advance(MARK_READ_INTERVAL_MS);
    marker.check();
    expect(marks).toEqual([4]);
  });

  test('after the client moved its cursor back (a server that lost records), the records shown since are marked', () => {
    const { state, marks, marker, advance } = setup();
    state.last = 100;
    marker.check();
    // Reconnected to a server whose journal ends at 5 (a memory store restarted): the client's lastSequenceId is 5 now.
    state.last = 6;
    advance(MARK_READ_INTERVAL_MS);
    marker.check();
    expect(marks).toEqual([100, 6]);
  });

  test('stop() leaves no timer and later checks do nothing', () => {
    const { state, marks, marker, advance, timers } = setup();
    state.last = 1;
    marker.check();
    state.last = 2;
    marker.check();
    marker.stop();
    expect(timers).toEqual([]);
    advance(MARK_READ_INTERVAL_MS);
    marker.check();
    expect(marks).toEqual([1]);
  });
});
