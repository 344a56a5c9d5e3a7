import type { ChatMessage, Participant } from '../../actors/message-types';
import type { ServerFrame } from '../../gateway/protocol/server-frames';
import type { JournalView } from './session-journal';

/** What one socket saw, in order: the frames it received and the `sync` frames it sent in between. */
export type SocketEvent =
  | { readonly kind: 'frame'; readonly frame: ServerFrame }
  | { readonly kind: 'sync'; readonly after: number; readonly history: number | undefined };

/** One socket's life as the checker needs it. */
export interface SocketTrace {
  readonly label: string;
  readonly conversationId: string;
  readonly userId: string;
  /** `last_sequence_id` of the upgrade URL, if any. */
  readonly resumeFrom: number | undefined;
  /** `history` of the upgrade URL, if any. */
  readonly history: number | undefined;
  readonly events: readonly SocketEvent[];
}

/** A resume not completed yet: `restartedAt`, where its replay restarted the stream (a history bound moves it forward). */
interface Resume {
  readonly after: number;
  readonly history: number | undefined;
  restartedAt: number | undefined;
}

const isMembershipRecord = (m: ChatMessage): boolean => m.message_type === 'join' || m.message_type === 'leave';

/**
 * Checks one socket's stream against docs/protocol.md and the journal; returns the violations.
 *
 * - `message` frames form one consecutive run, except that a resume (the URL's `last_sequence_id`, or a
 *   `sync` frame) may restart it once at resume point + 1: frames the old subscription sent before the
 *   server processed the sync can precede the replay. The replay ends exactly at `sync_complete.to`
 *   (`recovered: true`: nothing here drops records), and live records continue from there. Of two syncs
 *   sent back to back, the first one's replay and sync_complete may be skipped (superseded) or come first.
 *   A `history` bound (URL or sync) may start the replay later, at `sync_complete.from`, with at most `history`
 *   records; its `sync_complete` says `has_earlier`: true exactly when ids after the resume point were left out.
 * - Every record equals the journal's record with that sequence id, but for the content (and the edit and
 *   redaction marks) of a record changed since it was sent: the tab's view checks those (session-tab-view.ts).
 * - A live join/leave (mode change) record is followed at once by its `participant_update`
 *   (`mode_change`); replayed ones are not.
 * - `participant_list` comes once per subscription, never re-sent after a join or leave: right after
 *   `connected`, naming the members (and mode) as of `connected.last_sequence_id`, and at most once per
 *   `sync` frame, naming them as of its `sync_complete.to`. The roster a client keeps from that list and
 *   the update frames names the journal's members and mode after every live record, whenever no resume is pending.
 * - Nothing after the user's own leave record; never the user's own typing.
 */
export function checkSocketStream(trace: SocketTrace, journal: JournalView): string[] {
  const problems: string[] = [];
  const fail = (why: string): void => {
    problems.push(`${trace.label}: ${why}`);
  };
  let started = false;
  let next = 0;
  let liveAfter = 0;
  /** The last record received (a welcome participant_list names the members as of it). */
  let position = 0;
  /** The previous frame, to find the welcome list right after `connected`. */
  let previous: ServerFrame['type'] | undefined;
  /** `sync` frames sent whose participant_list has not come yet (a superseded sync never gets one). */
  let listsOwed = 0;
  /** A sync's list, checked when its `sync_complete` says which record it stands after. */
  let syncList: { ids: string[]; mode: string } | undefined;
  /** The client's roster: the last list with the update frames since applied to it. */
  const roster = { members: new Set<string>(), mode: '' };
  /** Resumes not completed yet, oldest first: the URL's, then `sync` frames (a later one may supersede an earlier one). */
  let pending: Resume[] = [];
  let expectUpdate: ChatMessage | undefined;
  let updateOptional = false;
  let ownLeave = false;

  for (const event of trace.events) {
    if (event.kind === 'sync') {
      pending.push({ after: event.after, history: event.history, restartedAt: undefined });
      listsOwed++;
      continue;
    }
    const frame = event.frame;
    const before = previous;
    previous = frame.type;
    if (expectUpdate) {
      const record = expectUpdate;
      expectUpdate = undefined;
      if (!matchesUpdate(record, frame, journal)) {
        if (!updateOptional)
          fail(`live ${record.message_type} record ${record.sequence_id} not followed by its update frame (got ${frame.type})`);
      } else {
        applyUpdate(roster, frame);
        // While a resume is pending an earlier update may have been skipped: the sync's list sets the roster right.
        if (pending.length === 0 && !ownLeave) {
          const members = [...roster.members].sort().join(',');
          const expected = [...journal.membersAt(record.sequence_id)].sort().join(',');
          if (members !== expected)
            fail(`roster from the updates ${members} after record ${record.sequence_id}; the journal has ${expected}`);
          if (roster.mode !== journal.modeAt(record.sequence_id))
            fail(`roster mode ${roster.mode} after record ${record.sequence_id}; the journal has ${journal.modeAt(record.sequence_id)}`);
        }
        continue;
      }
    } else if (frame.type === 'participant_update' || frame.type === 'mode_change') {
      fail(`${frame.type} without a live record before it (${JSON.stringify(frame)})`);
    }
    switch (frame.type) {
      case 'connected': {
        if (started) fail('second connected frame');
        started = true;
        liveAfter = position = frame.last_sequence_id;
        if (trace.resumeFrom === undefined && trace.history === undefined) next = frame.last_sequence_id + 1;
        else {
          // history= without last_sequence_id resumes after 0, bounded.
          const after = Math.min(trace.resumeFrom ?? 0, frame.last_sequence_id);
          pending = [{ after, history: trace.history, restartedAt: undefined }];
          next = after + 1;
        }
        break;
      }
      case 'message': {
        const m = frame.message;
        if (ownLeave) fail(`record ${m.sequence_id} after the user's own leave record`);
        if (m.conversation_id !== trace.conversationId) fail(`record of conversation ${m.conversation_id}`);
        // The oldest resume it can start: replays come in the order of their resumes (a superseded one's never).
        const restart = pending.find(
          (p) => p.restartedAt === undefined && (m.sequence_id === p.after + 1 || (p.history !== undefined && m.sequence_id > p.after + 1)),
        );
        if (m.sequence_id === next) next++;
        else if (restart) {
          restart.restartedAt = m.sequence_id;
          next = m.sequence_id + 1;
        } else {
          const resuming = pending.map((p) => p.after).join(', ');
          fail(`record ${m.sequence_id} where ${next} was due${resuming ? ` (resuming after ${resuming})` : ''}`);
          next = m.sequence_id + 1;
        }
        const stored = journal.record(m.sequence_id);
        if (!stored) fail(`record ${m.sequence_id} is not in the journal (last ${journal.last})`);
        else if (!sameRecord(stored, m)) fail(`record ${m.sequence_id} differs from the journal's: ${JSON.stringify(m)}`);
        position = m.sequence_id;
        // Only a live one: a re-joined member's replay holds its old leave record, and more after it.
        if (m.message_type === 'leave' && m.sender_id === trace.userId && m.sequence_id > liveAfter) ownLeave = true;
        if (isMembershipRecord(m) || m.message_type === 'mode_change') {
          // While a resume is pending, a record may be replayed (no update) or live for the old stream.
          if (m.sequence_id > liveAfter) {
            expectUpdate = m;
            updateOptional = pending.length > 0;
          }
        }
        break;
      }
      case 'sync_complete': {
        const index = answeredResume(pending, frame);
        if (index < 0) {
          fail(`sync_complete ${JSON.stringify(frame)} for no resume (pending: ${pending.map((p) => p.after).join(', ')})`);
          break;
        }
        const resumed = pending[index];
        if (!frame.recovered) fail(`sync_complete recovered: false (${JSON.stringify(frame)})`);
        if (frame.to < resumed.after) fail(`sync_complete.to ${frame.to} before the resume point ${resumed.after}`);
        if (frame.to >= frame.from && next - 1 !== frame.to) fail(`replay ended at ${next - 1}, sync_complete.to is ${frame.to}`);
        if (resumed.restartedAt !== undefined && resumed.restartedAt !== frame.from)
          fail(`replay restarted at ${resumed.restartedAt}, sync_complete.from is ${frame.from}`);
        problems.push(...checkHistoryBound(trace.label, resumed, frame));
        if (frame.to < frame.from) {
          if (resumed.restartedAt !== undefined) fail('records replayed before an empty sync_complete');
          if (next - 1 > frame.to) fail(`records up to ${next - 1} before sync_complete.to ${frame.to}`);
          next = frame.to + 1;
        }
        liveAfter = frame.to;
        if (syncList) {
          const expected = [...journal.membersAt(frame.to)].sort();
          if (JSON.stringify(syncList.ids) !== JSON.stringify(expected))
            fail(
              `participant_list ${syncList.ids.join(',')} answering a sync that ended at ${frame.to}; the journal has ${expected.join(',')}`,
            );
          if (syncList.mode !== journal.modeAt(frame.to))
            fail(`participant_list mode ${syncList.mode} answering a sync that ended at ${frame.to}`);
          syncList = undefined;
        }
        // Earlier resumes are done too: completed before, or superseded by this one (no replay of theirs follows).
        pending = pending.slice(index + 1);
        break;
      }
      case 'participant_list': {
        const ids = frame.participants.map((p: Participant) => p.participant_id).sort();
        roster.members = new Set(ids);
        roster.mode = frame.mode;
        if (before === 'connected') {
          const expected = [...journal.membersAt(position)].sort();
          if (JSON.stringify(ids) !== JSON.stringify(expected))
            fail(`participant_list ${ids.join(',')} after record ${position}; the journal has ${expected.join(',')}`);
          if (frame.mode !== journal.modeAt(position)) fail(`participant_list mode ${frame.mode} after record ${position}`);
        } else if (listsOwed > 0) {
          listsOwed--;
          syncList = { ids, mode: frame.mode };
        } else fail(`participant_list re-sent (after a ${before} frame), neither the welcome nor the answer to a sync`);
        break;
      }
      case 'typing':
        if (frame.participant_id === trace.userId) fail('received its own typing');
        break;
      default:
        break;
    }
  }
  return problems;
}

/**
 * Which pending resume a `sync_complete` answers: one resuming right before its `from`, or a history-bounded one
 * before it. Two may resume from the same id (a sync superseding the URL's resume): `has_earlier` tells a bounded
 * one's answer from the other's.
 */
function answeredResume(pending: readonly Resume[], frame: Extract<ServerFrame, { type: 'sync_complete' }>): number {
  const indexed = pending.map((p, i) => ({ p, i }));
  // Exact ones first: a bounded resume from an earlier id is answered at a later `from` only when the bound moved it.
  const candidates = [
    ...indexed.filter(({ p }) => frame.from === p.after + 1),
    ...indexed.filter(({ p }) => p.history !== undefined && frame.from > p.after + 1),
  ];
  const bounded = frame.has_earlier !== undefined;
  const alike = candidates.filter(({ p }) => (p.history !== undefined) === bounded);
  // Of two bounded ones (a sync superseding a bounded URL resume), the one whose bound the answer keeps.
  return (alike.find(({ p }) => checkHistoryBound('', p, frame).length === 0) ?? alike[0] ?? candidates[0])?.i ?? -1;
}

/** What a `history` bound promises of its `sync_complete` (docs/protocol.md, Connecting): at most N, has_earlier when ids were left out. */
function checkHistoryBound(label: string, resumed: Resume, frame: Extract<ServerFrame, { type: 'sync_complete' }>): string[] {
  const what = `${label}: sync_complete ${JSON.stringify(frame)} answering a resume after ${resumed.after}`;
  if (resumed.history === undefined) return frame.has_earlier === undefined ? [] : [`${what} says has_earlier without a history bound`];
  const replayed = Math.max(0, frame.to - frame.from + 1);
  const leftOut = frame.from > resumed.after + 1;
  if (frame.has_earlier !== leftOut) return [`${what} (history ${resumed.history}): has_earlier should be ${leftOut}`];
  if (replayed > resumed.history) return [`${what}: ${replayed} records replayed, history ${resumed.history}`];
  if (leftOut && replayed !== resumed.history) return [`${what}: left ids out but replayed ${replayed} of history ${resumed.history}`];
  return [];
}

/** Marks a change of a record's content adds (docs/protocol.md, Edits and deletes). */
const CHANGE_MARKS = ['edited', 'edited_at', 'edit_count', 'redacted'];

/** Equal records, but for the content and change marks when either has been changed (edited or redacted). */
function sameRecord(stored: ChatMessage, received: ChatMessage): boolean {
  if (JSON.stringify(stored) === JSON.stringify(received)) return true;
  const changed = (m: ChatMessage): boolean => m.metadata.edited === true || m.metadata.redacted === true;
  if (!changed(stored)) return false;
  const unchanged = (m: ChatMessage): string => {
    const metadata = Object.fromEntries(Object.entries(m.metadata).filter(([k]) => !CHANGE_MARKS.includes(k)));
    return JSON.stringify({ ...m, content: '', metadata });
  };
  return unchanged(stored) === unchanged(received);
}

/** Whether `frame` is the update frame a live membership / mode record calls for. */
function matchesUpdate(record: ChatMessage, frame: ServerFrame, journal: JournalView): boolean {
  if (record.message_type === 'mode_change') {
    return frame.type === 'mode_change' && frame.sequence_id === record.sequence_id && frame.mode === record.metadata.mode;
  }
  const participant = record.metadata.participant as Participant;
  return (
    frame.type === 'participant_update' &&
    frame.action === record.message_type &&
    frame.participant.participant_id === participant.participant_id &&
    frame.participant_count === journal.membersAt(record.sequence_id).size
  );
}

/** What a client does with a `participant_update` / `mode_change` frame: its roster follows. */
function applyUpdate(roster: { members: Set<string>; mode: string }, frame: ServerFrame): void {
  if (frame.type === 'mode_change') roster.mode = frame.mode;
  else if (frame.type === 'participant_update') {
    if (frame.action === 'join') roster.members.add(frame.participant.participant_id);
    else roster.members.delete(frame.participant.participant_id);
  }
}
