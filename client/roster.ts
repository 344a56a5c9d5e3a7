/**
 * The client's copy of who is in the conversation, who of them is online, and its mode, kept from
 * `participant_list`, `participant_update`, `presence`, `mode_change` and `connected` frames, so a UI
 * can read the current state at any time instead of replaying events.
 */
import type { ChatClientEvents } from './client-types';
import type {
  ConversationMode,
  Participant,
  ParticipantListFrame,
  ParticipantUpdateFrame,
  PresenceFrame,
  ReadFrame,
} from './protocol-frames';

/** Where the roster reports changes (the client's event emitter). */
export interface RosterDeps {
  emitParticipants(payload: ChatClientEvents['participants']): void;
  emitMode(payload: ChatClientEvents['mode']): void;
  emitPresence(payload: ChatClientEvents['presence']): void;
  emitRead(payload: ChatClientEvents['read']): void;
}

/** Participants and mode of one client's conversation. */
export interface Roster {
  readonly participants: readonly Participant[];
  readonly mode: ConversationMode | undefined;
  /** Ids of the human members online. */
  readonly online: readonly string[];
  /** Current member id -> the sequence id it has read up to, as the server last said (read positions); a leaver drops out. */
  readonly readPositions: ReadonlyMap<string, number>;
  /**
   * A connection's `connected`, naming the conversation's last id; `cursorReset`: it is below the last id this client
   * had (CLIENT_CURSOR_RESET). Either that or a position we hold above it says the server lost the end of its journal:
   * its next participant list's positions are then taken as they are, lower ones included (it took them down to its
   * end; the ids above will name new records, which those members have not read).
   */
  onConnected(lastSequenceId: number, cursorReset: boolean): void;
  /** Full list (sent on connect): replaces what we had; `presence` is emitted for each id whose state it changes. */
  onList(frame: ParticipantListFrame): void;
  /** A leave also takes the leaver out of `online` and `readPositions`, without a `presence` or `read` event (the leave says it). */
  onUpdate(frame: ParticipantUpdateFrame): void;
  /** Emits `presence` only on an actual change. */
  onPresence(frame: PresenceFrame): void;
  /** Emits `read` only when the position rises (a frame never lowers it; only a list after a journal loss does). */
  onRead(frame: ReadFrame): void;
  /** Emits `mode` only on an actual change, so repeated frames do not re-render a UI. */
  setMode(next: ConversationMode): void;
}

/** Creates an empty roster. */
export function createRoster(deps: RosterDeps): Roster {
  const participants = new Map<string, Participant>();
  const online = new Set<string>();
  const readPositions = new Map<string, number>();
  let mode: ConversationMode | undefined;
  /** The server lost the end of its journal (onConnected): its next list's positions replace ours, lower ones too. */
  let journalLost = false;

  function raiseRead(participantId: string, sequenceId: number): void {
    if (sequenceId <= (readPositions.get(participantId) ?? -1)) return;
    setRead(participantId, sequenceId);
  }

  function setRead(participantId: string, sequenceId: number): void {
    if (readPositions.get(participantId) === sequenceId) return;
    readPositions.set(participantId, sequenceId);
    deps.emitRead({ participantId, sequenceId });
  }

  function setMode(next: ConversationMode): void {
    if (next === mode) return;
    mode = next;
    deps.emitMode({ mode: next });
  }

  function setOnline(participantId: string, isOnline: boolean): void {
    if (online.has(participantId) === isOnline) return;
    if (isOnline) online.add(participantId);
    else online.delete(participantId);
    deps.emitPresence({ participantId, online: isOnline });
  }

  return {
    get participants() {
      return [...participants.values()];
    },
    get mode() {
      return mode;
    },
    get online() {
      return [...online];
    },
    get readPositions() {
      return new Map(readPositions);
    },
    onConnected(lastSequenceId, cursorReset) {
      journalLost = cursorReset || [...readPositions.values()].some((position) => position > lastSequenceId);
    },
    onList(frame) {
      participants.clear();
      for (const p of frame.participants ?? []) participants.set(p.participant_id, p);
      if (frame.mode) setMode(frame.mode);
      // After a reconnect the list is the truth: whoever changed while we were away gets an event. The set is
      // updated before `participants` is emitted, so a UI rendering on it sees both lists as of this frame.
      const now = new Set(Array.isArray(frame.online) ? frame.online : []);
      const changed = [...[...online].filter((id) => !now.has(id)), ...[...now].filter((id) => !online.has(id))];
      online.clear();
      for (const id of now) online.add(id);
      deps.emitParticipants({ participants: [...participants.values()] });
      for (const id of changed) deps.emitPresence({ participantId: id, online: now.has(id) });
      // Members only, as `online`: whoever left while we were away drops out ("seen by" names no former member).
      for (const id of [...readPositions.keys()]) if (!participants.has(id)) readPositions.delete(id);
      // Positions only rise (a position is kept across a leave and a re-join on the server, and never lowered):
      // a member's `read` event comes for each one the list raises, as for the frames while we were away. After a
      // journal loss the list's are taken as they are: the server took those past its end down to it.
      const lowerToo = journalLost && frame.read_positions !== undefined;
      journalLost = false;
      for (const [id, sequenceId] of Object.entries(frame.read_positions ?? {})) {
        if (lowerToo) setRead(id, sequenceId);
        else raiseRead(id, sequenceId);
      }
    },
    onUpdate(frame) {
      if (frame.action === 'leave') {
        participants.delete(frame.participant.participant_id);
        online.delete(frame.participant.participant_id);
        readPositions.delete(frame.participant.participant_id);
      } else {
        participants.set(frame.participant.participant_id, frame.participant);
        // A human joiner has read up to its join record (the server's rule): no `read` frame says so.
        if (frame.participant.participant_type === 'human')
          raiseRead(frame.participant.participant_id, frame.participant.joined_at_sequence);
      }
      deps.emitParticipants({
        participants: [...participants.values()],
        change: { action: frame.action, participant: frame.participant },
      });
    },
    onPresence(frame) {
      setOnline(frame.participant_id, frame.online);
    },
    onRead(frame) {
      raiseRead(frame.participant_id, frame.sequence_id);
    },
    setMode,
  };
}
