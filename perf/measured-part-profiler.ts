import { writeFile } from 'node:fs/promises';
import { Session } from 'node:inspector/promises';
import path from 'node:path';

/**
 * A CPU profile of only the measured part of a benchmark (`--cpu-prof` also records start-up and
 * warm-up, which drown a short measured run). Active only when given a directory
 * (GATEWAY_BENCH_PROFILE_DIR); otherwise start and stop do nothing, so a normal run pays nothing.
 */
export class MeasuredPartProfiler {
  private session: Session | undefined;

  constructor(
    private readonly dir: string | undefined,
    private readonly intervalMicros = 100,
  ) {}

  async start(): Promise<void> {
    if (this.dir === undefined || this.session) return;
    const session = new Session();
    session.connect();
    await session.post('Profiler.enable');
    await session.post('Profiler.setSamplingInterval', { interval: this.intervalMicros });
    await session.post('Profiler.start');
    this.session = session;
  }

  /** Writes `<dir>/<name>.cpuprofile` (readable by Chrome DevTools) and ends the session. */
  async stop(name: string): Promise<void> {
    const session = this.session;
    if (session === undefined || this.dir === undefined) return;
    this.session = undefined;
    const { profile } = await session.post('Profiler.stop');
    session.disconnect();
    await writeFile(path.join(this.dir, `${name}.cpuprofile`), JSON.stringify(profile));
  }
}
