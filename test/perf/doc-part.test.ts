/**
 * A benchmark rewrites only its own part of its docs/benchmarks.md section (perf/doc-part.ts): the heading, its
 * measured-on line and table down to its end marker. The dated notes written by hand below the marker, and every
 * other section, stay as they are: before, perf/gateway-bench.ts rewrote the whole "## Gateway" section, so each
 * note had to be copied into its template too, or the next run dropped it.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ownedPartEnd, replaceOwnedPart } from '../../perf/doc-part';

const MARKER = ownedPartEnd('perf/example-bench.ts');

const NOTES = ['2026-12-01: a note written by hand,', 'over two lines.', '', '2026-12-02, evening: another one.'].join('\n');

/** A page with the section between two others, its part ending at `end` (a marker, or nothing). */
function page(table: string, end: string): string {
  return [
    '# Benchmarks',
    '',
    '## Before',
    '',
    'untouched before',
    '',
    '## Example',
    '',
    'Measured 2026-11-30 on the old machine.',
    '',
    table,
    '',
    ...(end ? [end, ''] : []),
    NOTES,
    '',
    '### Example, a subsection',
    '',
    'a subsection belongs to the section: kept as well',
    '',
    '## After',
    '',
    'untouched after',
    '',
  ].join('\n');
}

const OLD_TABLE = '| metric | value |\n|---|---|\n| p50 | 1.0 |';
const NEW_BODY = 'Measured 2026-12-08 on the new machine.\n\n| metric | value |\n|---|---|\n| p50 | 0.9 |';

test('replaces the heading down to the marker and keeps the notes below it, the subsections and the other sections', () => {
  const next = replaceOwnedPart(page(OLD_TABLE, MARKER), '## Example', NEW_BODY, MARKER);
  expect(next).toBe(
    page('| metric | value |\n|---|---|\n| p50 | 0.9 |', MARKER).replace(
      'Measured 2026-11-30 on the old machine.',
      'Measured 2026-12-08 on the new machine.',
    ),
  );
  expect(next).not.toContain('old machine');
  expect(next.split(NOTES)).toHaveLength(2);
});

test('a second run with the same body changes nothing: nothing is appended or duplicated', () => {
  const once = replaceOwnedPart(page(OLD_TABLE, MARKER), '## Example', NEW_BODY, MARKER);
  expect(replaceOwnedPart(once, '## Example', NEW_BODY, MARKER)).toBe(once);
});

test('without the marker (a section written before it) the part ends with the first table: the notes stay, the marker is added', () => {
  const next = replaceOwnedPart(page(OLD_TABLE, ''), '## Example', NEW_BODY, MARKER);
  expect(next).toContain(`${NEW_BODY}\n\n${MARKER}\n\n${NOTES}\n`);
  expect(next).not.toContain('old machine');
  expect(next).toContain('untouched before');
  expect(next).toContain('untouched after');
});

test('without marker or table only the heading is replaced: the old text stays below the new part', () => {
  const old = '# Benchmarks\n\n## Example\n\nprose written before any table\n';
  expect(replaceOwnedPart(old, '## Example', NEW_BODY, MARKER)).toBe(
    `# Benchmarks\n\n## Example\n\n${NEW_BODY}\n\n${MARKER}\n\nprose written before any table\n`,
  );
});

test('a page without the section gets it appended, with its marker', () => {
  expect(replaceOwnedPart('# Benchmarks\n\n## Before\n\ntext\n', '## Example', NEW_BODY, MARKER)).toBe(
    `# Benchmarks\n\n## Before\n\ntext\n\n## Example\n\n${NEW_BODY}\n\n${MARKER}\n`,
  );
});

test("docs/benchmarks.md carries gateway-bench's marker: a run keeps every dated note of the Gateway section", () => {
  const doc = readFileSync(path.join(__dirname, '../../docs/benchmarks.md'), 'utf8');
  const marker = ownedPartEnd('perf/gateway-bench.ts');
  const start = doc.indexOf('\n## Gateway\n');
  const notesStart = doc.indexOf(`${marker}\n`, start);
  expect(start).toBeGreaterThan(0);
  expect(notesStart).toBeGreaterThan(start);
  const next = replaceOwnedPart(doc, '## Gateway', 'Measured on a test run.\n\n| a |\n|---|\n| 1 |', marker);
  // Everything from the marker on (the notes, then every later section) is as it was; so is everything before.
  expect(next.slice(next.indexOf(`${marker}\n`))).toBe(doc.slice(notesStart));
  expect(next.slice(0, start)).toBe(doc.slice(0, start));
  expect(doc.slice(notesStart)).toContain("2026-12-07, evening: where the peer's wait goes");
});
