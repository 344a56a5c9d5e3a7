/**
 * Instructions per step of one machine-step-bench subject, counted by valgrind's callgrind: a figure the load of the
 * shared VM does not move (times do, by tens of percent). The subject runs twice, with the same warm-up and `--low`
 * then `--high` steps; the difference of the two totals over the difference of the step counts leaves out start-up
 * and warm-up. Each run takes a minute or two (valgrind runs node ~50x slower).
 *
 * Run: npm run build && node dist/perf/step-instructions.js [--subject=step] [--low=2000] [--high=12000]
 */
import { spawnSync } from 'node:child_process';
import path from 'node:path';

const arg = (name: string, fallback: string): string =>
  process.argv.find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3) ?? fallback;

/** Instructions valgrind counted over a whole run of `steps` steps (start-up and warm-up included). */
function instructions(subject: string, steps: number): number {
  const bench = path.join(__dirname, 'machine-step-bench.js');
  const run = spawnSync(
    'valgrind',
    // JIT code rewrites itself: without the check valgrind would run stale translations. V8's predictable mode (no
    // background threads, a GC schedule that does not follow the clock) makes the count repeat: without it a major
    // GC fell in one run and not in the other (valgrind's and the load's slowdown move its timing), 2x the figure.
    [
      '--tool=callgrind',
      '--smc-check=all-non-file',
      '--callgrind-out-file=/dev/null',
      process.execPath,
      '--predictable',
      '--predictable-gc-schedule',
      bench,
      `--only=${subject}`,
      `--steps=${steps}`,
    ],
    { encoding: 'utf8' },
  );
  const collected = /Collected\s*:\s*(\d+)/.exec(run.stderr);
  if (run.status !== 0 || collected === null) throw new Error(`valgrind run failed (${run.status}): ${run.stderr.slice(-2000)}`);
  return Number(collected[1]);
}

const subject = arg('subject', 'step');
const low = Number(arg('low', '2000'));
const high = Number(arg('high', '12000'));
const atLow = instructions(subject, low);
const atHigh = instructions(subject, high);
console.log(
  `${subject}: ${Math.round((atHigh - atLow) / (high - low))} instructions per step (${atLow} at ${low} steps, ${atHigh} at ${high})`,
);
