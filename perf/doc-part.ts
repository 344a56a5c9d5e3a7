/**
 * Writing the part of a docs/benchmarks.md section that a benchmark owns, and keeping the paragraphs written by hand
 * after it. writeDocSection (bench-utils.ts) replaces a whole section, so every dated note written below a table had
 * to be copied into the benchmark's template as well, or the next run dropped it.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';

/**
 * The line that closes a benchmark's own part of its section: an HTML comment, so it does not show when the page is
 * rendered. What follows it, to the next section, is written by hand and kept by the benchmark.
 */
export function ownedPartEnd(benchmark: string): string {
  return `<!-- ${benchmark} writes this section down to here; the paragraphs below it are written by hand and kept -->`;
}

/**
 * `current` with the part of the section `heading` (a full heading line, "## Gateway") that the benchmark owns
 * replaced by `body`: from the heading down to `endMarker` (ownedPartEnd). Without the marker (a section written
 * before it, or the marker deleted), the owned part ends with the section's first table, and everything after the
 * table stays; with neither, only the heading is replaced and the old text stays below the new part. Nothing written
 * by hand is lost either way: at worst an old paragraph of the benchmark's stays too, to be deleted by hand. A missing
 * section is appended. Every other section is kept as it is.
 */
export function replaceOwnedPart(current: string, heading: string, body: string, endMarker: string): string {
  const part = `${heading}\n\n${body.trim()}\n\n${endMarker}\n`;
  const lines = current.split('\n');
  const start = lines.findIndex((l) => l.trim() === heading.trim());
  if (start < 0) return `${current.trimEnd()}\n\n${part}`;
  const end = sectionEnd(lines, start, /^#+/.exec(heading)?.[0].length ?? 2);
  const owned = ownedEnd(lines, start, end, endMarker);
  const before = lines.slice(0, start).join('\n').trimEnd();
  const kept = lines.slice(owned, end).join('\n').trim();
  const after = lines.slice(end).join('\n').trim();
  return `${before ? `${before}\n\n` : ''}${part}${kept ? `\n${kept}\n` : ''}${after ? `\n${after}\n` : ''}`;
}

/** Writes the benchmark's part of its section (replaceOwnedPart), reading the file right before: others write theirs. */
export function writeOwnedPart(path: string, heading: string, body: string, endMarker: string): void {
  const current = existsSync(path) ? readFileSync(path, 'utf8') : '# Benchmarks\n';
  writeFileSync(path, replaceOwnedPart(current, heading, body, endMarker));
}

/** The index of the line that starts the next section of the same or a higher level (or the number of lines). */
function sectionEnd(lines: readonly string[], start: number, level: number): number {
  for (let i = start + 1; i < lines.length; i++) {
    const m = /^(#+)\s/.exec(lines[i]!);
    if (m && m[1]!.length <= level) return i;
  }
  return lines.length;
}

/** The index of the first line after the owned part: after the marker, else after the first table, else the heading. */
function ownedEnd(lines: readonly string[], start: number, end: number, endMarker: string): number {
  for (let i = start + 1; i < end; i++) if (lines[i]!.trim() === endMarker.trim()) return i + 1;
  const table = lines.findIndex((l, i) => i > start && i < end && l.startsWith('|'));
  if (table < 0) return start + 1;
  let i = table;
  while (i < end && lines[i]!.startsWith('|')) i++;
  return i;
}
