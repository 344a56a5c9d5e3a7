import { IsoTimestamps } from '../../actors/iso-timestamps';

describe('IsoTimestamps', () => {
  it('formats exactly as Date#toISOString, across seconds, milliseconds and a reused second', () => {
    const timestamps = new IsoTimestamps();
    const start = Date.UTC(2026, 10, 27, 23, 59, 58, 990);
    // Forwards in 7 ms steps (crossing seconds, minutes, hours, a day and a month), then back again.
    const samples: number[] = [];
    for (let i = 0; i < 1000; i++) samples.push(start + i * 7);
    for (let i = 0; i < 50; i++) samples.push(start - i * 1013);
    samples.push(0, 1, 999, 1000, Date.UTC(2000, 1, 29, 12, 0, 0, 5), Date.UTC(9999, 11, 31, 23, 59, 59, 999));
    for (const ms of samples) expect(timestamps.format(ms)).toBe(new Date(ms).toISOString());
  });

  it('falls back to Date for what the cache does not cover (fractions, before 1970, after year 9999)', () => {
    const timestamps = new IsoTimestamps();
    for (const ms of [1.5, -1, -86_400_001, Date.UTC(10000, 0, 1)]) expect(timestamps.format(ms)).toBe(new Date(ms).toISOString());
  });
});
