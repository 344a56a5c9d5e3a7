/**
 * Runs every benchmark in perf/ one after another, each in its own process (so one's heap and
 * sockets cannot skew another), and lets each write its section of docs/benchmarks.md.
 * `npm run bench` builds first; pass names to run a subset: `npm run bench -- core gateway`.
 */
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const wanted = process.argv.slice(2);
const benches = readdirSync(__dirname)
  .filter((f) => f.endsWith('-bench.js'))
  .filter((f) => wanted.length === 0 || wanted.some((w) => f.startsWith(w)));
let failed = 0;
for (const file of benches) {
  console.log(`\n=== ${file} ===`);
  const run = spawnSync(process.execPath, ['--expose-gc', join(__dirname, file)], { stdio: 'inherit' });
  if (run.status !== 0) {
    failed++;
    console.error(`${file} exited with ${run.status ?? run.signal}`);
  }
}
process.exit(failed === 0 ? 0 : 1);
