import { isDeepStrictEqual } from 'node:util';
import { ChatError } from '../../actors/errors';
import { EXIT, type ExitCode } from './exit-codes';
import { diffJournals, type FieldChange, type RecordDifference } from './journal-diff';
import type { JournalSource } from './journal-source';
import { toJsonLine } from './jsonl';
import { LineWriter, type TextSink } from './line-writer';
import { createProgress, type ProgressSink } from './progress';
import { excerpt, formatTimelineLine, timelineHeading } from './timeline-format';

/** A source with the name the user gave it (the file), to say which side a record is on. */
export interface NamedSource {
  readonly name: string;
  readonly source: JournalSource;
}

export interface DiffOptions {
  readonly json?: boolean;
  /** Content excerpt width of the text lines. */
  readonly width?: number;
}

/** The first column of a text diff line: what happened to the record at that id (a replaced one: `<` old, `>` new). */
const MARKS = { added: '+', removed: '-', changed: '~', replacedOld: '<', replacedNew: '>' } as const;

/**
 * Prints how the newer read of a conversation's journal differs from the older one: the conversation's stored
 * metadata, then each sequence id whose record was added, removed, changed in place (edits, redactions) or replaced
 * by another record, in sequence order; then a summary. Returns EXIT.differ when anything differs, else EXIT.ok.
 */
export async function runDiff(
  older: NamedSource,
  newer: NamedSource,
  options: DiffOptions,
  io: { stdout: TextSink; stderr: ProgressSink },
): Promise<ExitCode> {
  if (older.source.conversationId !== newer.source.conversationId) {
    throw new ChatError(
      'CONFIG_ERR_INVALID',
      `${older.name} holds conversation ${older.source.conversationId} and ${newer.name} holds ${newer.source.conversationId}: diff compares two reads of one conversation`,
    );
  }
  const conversationId = older.source.conversationId;
  const out = new LineWriter(io.stdout);
  const progress = createProgress(io.stderr, 'diff');
  const counts = { added: 0, removed: 0, changed: 0, replaced: 0 };
  const width = options.width ?? 80;
  const records = { old: 0, new: 0 };
  const header = headerChanges(older.source, newer.source);
  try {
    if (header.length > 0) {
      if (options.json)
        await out.line(toJsonLine({ type: 'diff', change: 'conversation', conversation_id: conversationId, fields: header }));
      else await out.line(`~ conversation ${conversationId}: ${describeFields(header, width)}`);
    }
    let headed = false;
    const counted = (side: 'old' | 'new', source: JournalSource) => ({
      async *[Symbol.asyncIterator]() {
        for await (const record of source.records()) {
          records[side] += 1;
          if (side === 'new') progress.tick();
          yield record;
        }
      },
    });
    for await (const d of diffJournals(
      { name: older.name, records: counted('old', older.source) },
      { name: newer.name, records: counted('new', newer.source) },
    )) {
      counts[d.change] += 1;
      if (!options.json && !headed) {
        headed = true;
        await out.line(`  ${timelineHeading()}`);
      }
      if (options.json) await out.line(toJsonLine({ type: 'diff', ...d }));
      else for (const line of textLines(d, width)) await out.line(line);
    }
  } finally {
    progress.done();
    await out.flush();
  }
  // A changed conversation (closed, retitled, history trimmed) differs too, with every record the same.
  const conversationChanged = header.length > 0;
  const differs = conversationChanged || Object.values(counts).some((n) => n > 0);
  if (options.json) {
    await out.line(
      toJsonLine({
        type: 'diff_summary',
        conversation_id: conversationId,
        old_records: records.old,
        new_records: records.new,
        ...counts,
        conversation_changed: conversationChanged,
      }),
    );
  } else {
    const parts = Object.entries(counts).map(([k, v]) => `${v} ${k}`);
    await out.line(
      `diff ${differs ? 'FOUND' : 'NONE'}: conversation ${conversationId}: ${records.old} records in ${older.name}, ${records.new} in ${newer.name}: ${parts.join(', ')}${
        conversationChanged ? '; the conversation changed' : ''
      }`,
    );
  }
  await out.flush();
  return differs ? EXIT.differ : EXIT.ok;
}

/** The timeline line of each side, marked; a change adds what changed, an edit's metadata included. */
function textLines(d: RecordDifference, width: number): string[] {
  const line = (mark: string, m: Parameters<typeof formatTimelineLine>[0]) => `${mark} ${formatTimelineLine(m, { excerptWidth: width })}`;
  switch (d.change) {
    case 'added':
      return [line(MARKS.added, d.new)];
    case 'removed':
      return [line(MARKS.removed, d.old)];
    case 'changed':
      return [line(MARKS.changed, d.new), `${' '.repeat(11)}changed: ${describeFields(d.fields, width)}`];
    case 'replaced':
      // Both records: which one each read holds is the finding.
      return [
        line(MARKS.replacedOld, d.old),
        line(MARKS.replacedNew, d.new),
        `${' '.repeat(11)}changed: ${describeFields(d.fields, width)}`,
      ];
  }
}

/** `content "a" → "b"; metadata.edit_count 1 → 2`, each value cut to one line. */
function describeFields(fields: readonly FieldChange[], width: number): string {
  const show = (v: unknown) => (v === undefined ? '(absent)' : excerpt(JSON.stringify(v), width));
  return fields.map((f) => `${f.field} ${show(f.old)} → ${show(f.new)}`).join('; ');
}

/** What differs in the stored conversation (title, status, settings, ...) and in where the held history starts. */
function headerChanges(older: JournalSource, newer: JournalSource): FieldChange[] {
  const changes: FieldChange[] = [];
  const a = (older.meta ?? {}) as unknown as Record<string, unknown>;
  const b = (newer.meta ?? {}) as unknown as Record<string, unknown>;
  // Only when both reads carry the metadata: an export from a source without it says nothing about it.
  if (older.meta && newer.meta) {
    for (const key of new Set([...Object.keys(a), ...Object.keys(b)]))
      // Key order aside (jsonb reorders settings): journal-diff.ts compares records the same way.
      if (!isDeepStrictEqual(a[key], b[key])) changes.push({ field: key, old: a[key], new: b[key] });
  }
  if ((older.historyStartsAt ?? 1) !== (newer.historyStartsAt ?? 1))
    changes.push({ field: 'history_starts_at', old: older.historyStartsAt ?? 1, new: newer.historyStartsAt ?? 1 });
  return changes;
}
