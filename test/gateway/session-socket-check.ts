import type { ChatMessage, Participant } from '../../actors/message-types';
import type { ServerFrame } from '../../gateway/protocol/server-frames';
import type { JournalView } from './session-journal';

/** What one socket saw, in order: the frames it received and the `sync` frames it sent in between. */
export type SocketEvent = { readonly kind: 'frame'; readonly frame: ServerFrame } | { readonly kind: 'sync'; readonly after: number };

/** One socket's life as the checker needs it. */
export interface SocketTrace {
  readonly label: string;
  readonly conversationId: string;
  readonly userId: string;
  /** `last_sequence_id` of the upgrade URL, if any. */
  readonly resumeFrom: number | undefined;
  readonly events: readonly SocketEvent[];
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
 * - Every record equals the journal's record with that sequence id.
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
  let pending: Array<{ after: number; restarted: boolean }> = [];
  let expectUpdate: ChatMessage | undefined;
  let updateOptional = false;
  let ownLeave = false;

  for (const event of trace.events) {
    if (event.kind === 'sync') {
      pending.push({ after: event.after, restarted: false });
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
        if (trace.resumeFrom === undefined) next = frame.last_sequence_id + 1;
        else {
          const after = Math.min(trace.resumeFrom, frame.last_sequence_id);
          pending = [{ after, restarted: false }];
          next = after + 1;
        }
        break;
      }
      case 'message': {
        const m = frame.message;
        if (ownLeave) fail(`record ${m.sequence_id} after the user's own leave record`);
        if (m.conversation_id !== trace.conversationId) fail(`record of conversation ${m.conversation_id}`);
        const restart = pending.find((p) => !p.restarted && m.sequence_id === p.after + 1);
        if (m.sequence_id === next) next++;
        else if (restart) {
          restart.restarted = true;
          next = m.sequence_id + 1;
        } else {
          const resuming = pending.map((p) => p.after).join(', ');
          fail(`record ${m.sequence_id} where ${next} was due${resuming ? ` (resuming after ${resuming})` : ''}`);
          next = m.sequence_id + 1;
        }
        const stored = journal.record(m.sequence_id);
        if (!stored) fail(`record ${m.sequence_id} is not in the journal (last ${journal.last})`);
        else if (JSON.stringify(stored) !== JSON.stringify(m)) fail(`record ${m.sequence_id} differs from the journal's`);
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
        const index = pending.findIndex((p) => frame.from === p.after + 1);
        if (index < 0) {
          fail(`sync_complete ${JSON.stringify(frame)} for no resume (pending: ${pending.map((p) => p.after).join(', ')})`);
          break;
        }
        const resumed = pending[index];
        if (!frame.recovered) fail(`sync_complete recovered: false (${JSON.stringify(frame)})`);
        if (frame.to < resumed.after) fail(`sync_complete.to ${frame.to} before the resume point ${resumed.after}`);
        if (frame.to >= frame.from && next - 1 !== frame.to) fail(`replay ended at ${next - 1}, sync_complete.to is ${frame.to}`);
        if (frame.to < frame.from) {
          if (resumed.restarted) fail('records replayed before an empty sync_complete');
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
