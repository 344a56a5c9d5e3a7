import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { makeTmpDir, runCliToFile, writeBigJournal } from './replay-fixtures';

async function countLines(file: string): Promise<{ lines: number; last: string }> {
  let lines = 0;
  let last = '';
  for await (const line of readline.createInterface({ input: fs.createReadStream(file), crlfDelay: Infinity })) {
    lines += 1;
    last = line;
  }
  return { lines, last };
}

/**
 * The journal (about 40 MB: 30 000 records of ~1.3 kB) is larger than the V8 heap the CLI is
 * given, so holding the records (or the lines) would end in an out-of-memory abort: passing shows
 * the timeline, --check and --rerun stream. (Parsed, these records take ~43 MB of heap.)
 */
describe('replay streams large journals in bounded memory (child process, capped heap)', () => {
  const RECORDS = 30_002;
  let dir: string;
  let journal: string;

  beforeAll(async () => {
    dir = makeTmpDir();
    journal = path.join(dir, 'big.jsonl');
    await writeBigJournal(journal, RECORDS, 32);
    expect(fs.statSync(journal).size).toBeGreaterThan(35 * 1024 * 1024);
  }, 60_000);
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('prints the whole timeline with a 16 MB heap', async () => {
    const out = path.join(dir, 'timeline.txt');
    const run = await runCliToFile(['--max-old-space-size=16'], ['--file', journal], out);
    expect(run).toEqual({ code: 0, stderr: '' });
    const { lines, last } = await countLines(out);
    expect(lines).toBe(RECORDS + 1);
    expect(last).toMatch(new RegExp(`^\\s*${RECORDS}  .*echo \\(ai\\)`));
  }, 60_000);

  it('checks and re-runs it with a 32 MB heap', async () => {
    const out = path.join(dir, 'report.txt');
    const run = await runCliToFile(['--max-old-space-size=32'], ['--file', journal, '--check', '--rerun'], out);
    expect(run).toEqual({ code: 0, stderr: '' });
    expect(fs.readFileSync(out, 'utf8')).toBe(
      `check OK: conversation big: ${RECORDS} records, 0 violations\nrerun OK: conversation big: ${RECORDS} records, ${RECORDS} compared, 0 divergences\n`,
    );
  }, 60_000);
});
