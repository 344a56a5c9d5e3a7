import { answeredSequencesOf } from '../../actors/answered-sequences';
import type { ChatMessage } from '../../actors/message-types';
import { answeredNote } from './answered-note';
import { changeNote } from './change-notes';
import type { LostRun } from './lost-runs';
import type { SequenceHole } from './sequence-holes';

/** Options of the human-readable timeline. */
export interface TimelineOptions {
  /** Maximum characters of the content excerpt (default 80). */
  readonly excerptWidth?: number;
  /** The sequence ids the record answers when the record itself does not say (job-triggers.ts), ascending. */
  readonly answers?: readonly number[];
}

const SEQ_WIDTH = 7;
const SENDER_WIDTH = 22;
const TYPE_WIDTH = 19;

/** The column heading printed once before the timeline. */
export function timelineHeading(): string {
  return `${'SEQ'.padStart(SEQ_WIDTH)}  ${'TIME'.padEnd(12)}  ${'SENDER'.padEnd(SENDER_WIDTH)}  ${'TYPE'.padEnd(TYPE_WIDTH)}  CONTENT`;
}

/**
 * One record as one line: sequence id, time of day (UTC, HH:MM:SS.mmm), sender id with its type,
 * message type, and a one-line excerpt. AI answers and job records name the sequence ids they
 * answer ("re #12", "re #10, #12" for a burst: answered-note.ts) so ordering questions can be read off the timeline.
 */
export function formatTimelineLine(m: ChatMessage, options: TimelineOptions = {}): string {
  const width = options.excerptWidth ?? 80;
  const sender = `${m.sender_id} (${m.sender_type})`;
  const replyTo = answeredSequencesOf(m.metadata) ?? options.answers;
  const note = replyTo !== undefined && replyTo.length > 0 ? answeredNote(replyTo) : '';
  const redacted = m.metadata.redacted === true && !m.content.includes('redacted') ? '[redacted] ' : '';
  return [
    String(m.sequence_id).padStart(SEQ_WIDTH),
    timeOfDay(m.timestamp).padEnd(12),
    fit(sender, SENDER_WIDTH).padEnd(SENDER_WIDTH),
    fit(m.message_type, TYPE_WIDTH).padEnd(TYPE_WIDTH),
    excerpt(redacted + note + changeNote(m, timeOfDay) + m.content, width),
  ].join('  ');
}

/**
 * A run of lost ids (lost-runs.ts) as one timeline line: the id range, when the restart marked them, and what
 * is known of them. Not cut to the excerpt width: the text is the CLI's own, and cutting it would cut the facts.
 */
export function formatLostRunLine(run: LostRun): string {
  const ids = run.from === run.to ? String(run.from) : `${run.from}..${run.to}`;
  return [
    ids.padStart(SEQ_WIDTH),
    timeOfDay(run.marked_at).padEnd(12),
    'system (system)'.padEnd(SENDER_WIDTH),
    'lost'.padEnd(TYPE_WIDTH),
    run.detail,
  ].join('  ');
}

/** Ids the journal skips, as one timeline line where they would be (no time, no sender: nothing is known of them). */
export function formatHoleLine(hole: SequenceHole): string {
  const ids = hole.from === hole.to ? String(hole.from) : `${hole.from}..${hole.to}`;
  return [ids.padStart(SEQ_WIDTH), '-'.padEnd(12), '-'.padEnd(SENDER_WIDTH), 'missing'.padEnd(TYPE_WIDTH), hole.detail].join('  ');
}

/** HH:MM:SS.mmm in UTC; the raw text when the timestamp does not parse. */
export function timeOfDay(iso: string): string {
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) return iso;
  return new Date(ms).toISOString().slice(11, 23);
}

/**
 * Content on one line: newlines shown as ⏎, other control characters as \uXXXX (so a record
 * cannot move the cursor or fake another line), cut to `width` with an ellipsis.
 */
export function excerpt(content: string, width: number): string {
  let out = '';
  for (const ch of content) {
    const code = ch.codePointAt(0)!;
    if (ch === '\n') out += '⏎';
    else if (ch === '\r') continue;
    else if (ch === '\t') out += ' ';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\u${code.toString(16).padStart(4, '0')}`;
    else out += ch;
    if (out.length > width) break;
  }
  return fit(out, width);
}

function fit(text: string, width: number): string {
  if (width <= 0) return '';
  return text.length > width ? `${text.slice(0, Math.max(0, width - 1))}…` : text;
}
