import { answeredSequencesOf } from '../../actors/answered-sequences';
import type { ChatMessage } from '../../actors/message-types';
import { EXIT, type ExitCode } from './exit-codes';
import { createInvariantChecker, formatViolation, type Violation } from './invariant-check';
import type { JournalSource } from './journal-source';
import { makeHeader, toJsonLine } from './jsonl';
import { LineWriter, type TextSink } from './line-writer';
import { createMachineRerun, formatDivergence, type Divergence } from './machine-rerun';
import { createJobTriggers } from './job-triggers';
import { createJoinedParticipants } from './joined-participants';
import { createLostRuns, type LostRun } from './lost-runs';
import { createParticipantView } from './participant-view';
import { createProgress, type ProgressSink } from './progress';
import { createSenderFilter } from './sender-filter';
import { createSequenceHoles, type SequenceHole } from './sequence-holes';
import { formatHoleLine, formatLostRunLine, formatTimelineLine, timelineHeading } from './timeline-format';
import { heldFromNote, historyTrimmedNote, rerunRefusal } from './trimmed-history';

/** Where the CLI writes: results to stdout, notes and progress to stderr. */
export interface ReplayIo {
  readonly stdout: TextSink;
  readonly stderr: TextSink & ProgressSink;
}

export interface ReplayOptions {
  /** JSON lines instead of text. */
  readonly json?: boolean;
  /** Only what this participant saw (timeline only). */
  readonly as?: string;
  /** Verify invariants instead of printing the timeline. */
  readonly check?: boolean;
  /** Re-run through the conversation machine instead of printing the timeline. */
  readonly rerun?: boolean;
  /** Only records from this sequence id on (timeline only; --as and job triggers still read from #1). */
  readonly from?: number;
  /** Only records up to this sequence id (timeline only); reading stops at the first record past it. */
  readonly to?: number;
  /** Only records of these participants, and system records about them (timeline only; sender-filter.ts). */
  readonly senders?: readonly string[];
  /** Content excerpt width of the text timeline. */
  readonly width?: number;
  /** How many violations / divergences to print (each); the rest are only counted. */
  readonly maxReports?: number;
  /** Records between progress redraws. */
  readonly progressEvery?: number;
}

/**
 * Reads the journal once and prints the timeline (optionally one participant's view), or checks
 * invariants and/or re-runs the machine in that same single pass. Returns the exit code:
 * 2 when a violation was found, else 3 when a divergence was found, else 0; 1 (before reading) when
 * --rerun is asked of a journal whose source no longer holds its start.
 */
export async function runReplay(source: JournalSource, options: ReplayOptions, io: ReplayIo): Promise<ExitCode> {
  const startsAt = source.historyStartsAt ?? 1;
  if (options.rerun && startsAt > 1) {
    io.stderr.write(`replay: ${rerunRefusal(source.conversationId, startsAt)}\n`);
    return EXIT.usage;
  }
  const out = new LineWriter(io.stdout);
  const progress = createProgress(io.stderr, 'replay', options.progressEvery);
  const analysing = options.check === true || options.rerun === true;
  const maxReports = options.maxReports ?? 20;
  const checker = options.check ? createInvariantChecker({ conversationId: source.conversationId, historyStartsAt: startsAt }) : undefined;
  const rerun = options.rerun ? createMachineRerun({ conversationId: source.conversationId, settings: source.meta?.settings }) : undefined;
  const view = options.as !== undefined ? createParticipantView(options.as) : undefined;
  const joined = view ? createJoinedParticipants() : undefined;
  const senders = options.senders !== undefined ? createSenderFilter(options.senders) : undefined;
  const lostRuns = createLostRuns();
  const jobTriggers = createJobTriggers();
  // What each shown record answers, by sequence id, until its line is written (lost runs may hold records back).
  const answers = new Map<number, readonly number[]>();
  const holes = createSequenceHoles(source.conversationId, startsAt);
  // The hole shown just before a record, by that record's sequence id, until its line is written.
  const holesBefore = new Map<number, SequenceHole>();
  let records = 0;
  let shown = 0;
  // Records shown after --sender (shown counts those in range and seen by --as).
  let printed = 0;
  let cutAtTo = false;
  let violations = 0;
  let divergences = 0;

  const reportViolations = async (list: Violation[]): Promise<void> => {
    for (const v of list) {
      violations += 1;
      if (violations <= maxReports)
        await out.line(options.json ? toJsonLine({ type: 'violation', ...v }) : `violation ${formatViolation(v)}`);
    }
  };
  const showTimeline = async (items: ReadonlyArray<ChatMessage | LostRun>): Promise<void> => {
    for (const item of items) {
      if (isLostRun(item)) await out.line(options.json ? toJsonLine(item) : formatLostRunLine(item));
      else {
        const hole = holesBefore.get(item.sequence_id);
        if (hole) {
          holesBefore.delete(item.sequence_id);
          await out.line(options.json ? toJsonLine(hole) : formatHoleLine(hole));
        }
        const answered = answers.get(item.sequence_id);
        answers.delete(item.sequence_id);
        // Holes (above) and lost runs are shown whatever --sender says: the ids may have been anyone's.
        if (senders && !senders.shows(item)) continue;
        printed += 1;
        await out.line(
          options.json
            ? toJsonLine(item)
            : formatTimelineLine(item, { excerptWidth: options.width, ...(answered !== undefined ? { answers: answered } : {}) }),
        );
      }
    }
  };
  const reportDivergences = async (list: Divergence[]): Promise<void> => {
    for (const d of list) {
      divergences += 1;
      if (divergences <= maxReports)
        await out.line(options.json ? toJsonLine({ type: 'divergence', ...d }) : `divergence ${formatDivergence(d)}`);
    }
  };

  /** One record: checked, re-run, or shown (when in range and seen by --as). */
  const accept = async (record: ChatMessage): Promise<'past --to' | undefined> => {
    records += 1;
    progress.tick();
    if (checker) await reportViolations(checker.accept(record));
    if (rerun) await reportDivergences(rerun.accept(record));
    if (analysing) return undefined;
    // The journal is in sequence order: nothing after this record is in range, so stop reading (a --to
    // on a large journal answers at once). --check reports a journal that is not in order.
    if (options.to !== undefined && record.sequence_id > options.to) {
      cutAtTo = true;
      return 'past --to';
    }
    const answered = jobTriggers.accept(record);
    const hole = holes.accept(record);
    joined?.accept(record);
    if (view && !view.accept(record)) return undefined;
    // Before --from: read (membership, job triggers), not shown.
    if (options.from !== undefined && record.sequence_id < options.from) return undefined;
    shown += 1;
    const shownHole = hole && holes.describe(hole, options.from);
    if (shownHole) holesBefore.set(record.sequence_id, shownHole);
    // Only for a record that does not say it itself (a failed or cancelled job's end): the line reads its own ids.
    if (answered !== undefined && answeredSequencesOf(record.metadata) === undefined) answers.set(record.sequence_id, answered);
    await showTimeline(lostRuns.accept(record));
    return undefined;
  };

  try {
    if (!analysing && !options.json) await out.line(timelineHeading());
    if (checker && startsAt > 1) await out.line(historyTrimmedNote(source.conversationId, startsAt, options.json === true));
    if (source.follows) await out.flush();
    for await (const record of source.records()) {
      if ((await accept(record)) === 'past --to') break;
      // Following, the record --to names ends it: the next one may never be sequenced, and nothing after it is shown.
      if (source.follows && !analysing && options.to !== undefined && record.sequence_id >= options.to) {
        cutAtTo = true;
        break;
      }
      // Following a server: each record as it comes, not when 64 KiB have gathered (someone is waiting on it).
      if (source.follows) await out.flush();
    }
    if (!analysing) await showTimeline(lostRuns.finish());
    if (checker) {
      await reportViolations(checker.finish(source.endsAt?.()));
      // Findings that do not fail the check (a job that may still be running): all of them, they are few.
      for (const n of checker.notes())
        await out.line(
          options.json ? toJsonLine({ type: 'note', conversation_id: source.conversationId, ...n }) : `note ${formatViolation(n)}`,
        );
    }
    if (rerun) await reportDivergences(rerun.finish());
  } catch (err) {
    rerun?.finish();
    throw err;
  } finally {
    progress.done();
    await out.flush();
  }

  if (checker) await summary('check', { records, violations }, violations > maxReports ? violations - maxReports : 0);
  if (rerun)
    await summary('rerun', { records, compared: rerun.compared, divergences }, divergences > maxReports ? divergences - maxReports : 0);
  await out.flush();
  const ranged = options.from !== undefined || options.to !== undefined;
  if (view && view.periods === 0 && !cutAtTo) io.stderr.write(`replay: ${joined!.neverJoinedNote(options.as!, source.conversationId)}\n`);
  else if (!analysing && ranged && shown === 0 && records > 0)
    io.stderr.write(
      `replay: no record of conversation ${source.conversationId} in #${options.from ?? 1}..#${options.to ?? 'end'}${
        view ? ` that ${options.as} saw` : ''
      }\n`,
    );
  else if (!analysing && senders && shown > 0 && printed === 0)
    io.stderr.write(
      `replay: no record of ${options.senders!.join(', ')} in conversation ${source.conversationId}${
        ranged ? ` in #${options.from ?? 1}..#${options.to ?? 'end'}` : ''
      }${view ? ` that ${options.as} saw` : ''}\n`,
    );
  if (!analysing && records === 0) io.stderr.write(`replay: conversation ${source.conversationId} has no records\n`);
  if (!analysing && startsAt > 1) io.stderr.write(`replay: ${heldFromNote(source.conversationId, startsAt)}\n`);
  if (violations > 0) return EXIT.violation;
  if (divergences > 0) return EXIT.divergence;
  return EXIT.ok;

  async function summary(kind: 'check' | 'rerun', counts: Record<string, number>, unshown: number): Promise<void> {
    const start = startsAt > 1 ? { history_starts_at: startsAt } : {};
    if (options.json) {
      await out.line(toJsonLine({ type: `${kind}_summary`, conversation_id: source.conversationId, ...counts, unshown, ...start }));
      return;
    }
    const parts = Object.entries(counts).map(([k, v]) => `${v} ${k}`);
    const more = unshown > 0 ? ` (${unshown} more not shown; raise --max-reports)` : '';
    const from = startsAt > 1 ? ` (history from #${startsAt})` : '';
    const ok = (kind === 'check' ? counts.violations : counts.divergences) === 0 ? 'OK' : 'FAILED';
    await out.line(`${kind} ${ok}: conversation ${source.conversationId}: ${parts.join(', ')}${more}${from}`);
  }
}

/** Writes a JSONL export: the header line, then one record per line. Returns the record count. */
export async function runExport(
  source: JournalSource,
  sink: TextSink,
  io: Pick<ReplayIo, 'stderr'>,
  now: Date = new Date(),
): Promise<number> {
  const out = new LineWriter(sink);
  const progress = createProgress(io.stderr, 'export');
  let count = 0;
  try {
    await out.line(toJsonLine(makeHeader(source.conversationId, now, source.meta, source.historyStartsAt)));
    for await (const record of source.records()) {
      count += 1;
      progress.tick();
      await out.line(toJsonLine(record satisfies ChatMessage));
    }
  } finally {
    progress.done();
    await out.flush();
  }
  return count;
}

/** A run, not a record: records always have a sequence id (a record's own stray `type` key must not matter). */
function isLostRun(item: ChatMessage | LostRun): item is LostRun {
  return !('sequence_id' in item);
}
