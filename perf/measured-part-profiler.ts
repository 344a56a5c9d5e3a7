import { mkdir, writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/** `cpu`: where the time goes; `heap`: where every allocation comes from, the short-lived included. */
export type ProfileKind = 'cpu' | 'heap';

/**
 * A profile of only the measured part of a benchmark (`--cpu-prof` also records start-up and warm-up,
 * which drown a short measured run). Active only when given a directory (GATEWAY_BENCH_PROFILE_DIR);
 * otherwise start and stop do nothing, so a normal run pays nothing.
 */
export class MeasuredPartProfiler {
  private session: Session | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly kind: ProfileKind = 'cpu',
    /** CPU sampling interval: 1 ms suits long runs; a latency run of a few hundred round trips needs ~100 µs. */
    private readonly intervalMicros = 1000,
  ) {}

  async start(): Promise<void> {
    if (this.dir === undefined || this.session) return;
    const session = new Session();
    session.connect();
    if (this.kind === 'cpu') {
      await session.post('Profiler.enable');
      await session.post('Profiler.setSamplingInterval', { interval: this.intervalMicros });
      await session.post('Profiler.start');
    } else {
      // Garbage is what makes collections frequent: keep the samples of objects collected since.
      await session.post('HeapProfiler.startSampling', {
        samplingInterval: 4096,
        includeObjectsCollectedByMajorGC: true,
        includeObjectsCollectedByMinorGC: true,
      } as never);
    }
    this.session = session;
  }

  /** Writes `<dir>/<name>.cpuprofile` or `.heapprofile` (both open in Chrome DevTools) and ends the session. */
  async stop(name: string): Promise<void> {
    const session = this.session;
    if (session === undefined || this.dir === undefined) return;
    this.session = undefined;
    const profile =
      this.kind === 'cpu' ? (await session.post('Profiler.stop')).profile : (await session.post('HeapProfiler.stopSampling')).profile;
    session.disconnect();
    // A fresh directory name is the common case (`GATEWAY_BENCH_PROFILE_DIR=/tmp/prof`): losing the run to ENOENT is not.
    await mkdir(this.dir, { recursive: true });
    await writeFile(path.join(this.dir, `${name}.${this.kind}profile`), JSON.stringify(profile));
  }
}
