/**
 * The client's copy of who is in the conversation and its mode, kept from `participant_list`,
 * `participant_update`, `mode_change` and `connected` frames, so a UI can read the current state
 * at any time instead of replaying events.
 */
import type { ChatClientEvents } from './client-types';
import type { ConversationMode, Participant, ParticipantListFrame, ParticipantUpdateFrame } from './protocol-frames';

/** Where the roster reports changes (the client's event emitter). */
export interface RosterDeps {
  emitParticipants(payload: ChatClientEvents['participants']): void;
  emitMode(payload: ChatClientEvents['mode']): void;
}

/** Participants and mode of one client's conversation. */
export interface Roster {
  readonly participants: readonly Participant[];
  readonly mode: ConversationMode | undefined;
  /** Full list (sent on connect): replaces what we had. */
  onList(frame: ParticipantListFrame): void;
  onUpdate(frame: ParticipantUpdateFrame): void;
  /** Emits `mode` only on an actual change, so repeated frames do not re-render a UI. */
  setMode(next: ConversationMode): void;
}

/** Creates an empty roster. */
export function createRoster(deps: RosterDeps): Roster {
  const participants = new Map<string, Participant>();
  let mode: ConversationMode | undefined;

  function setMode(next: ConversationMode): void {
    if (next === mode) return;
    mode = next;
    deps.emitMode({ mode: next });
  }

  return {
    get participants() {
      return [...participants.values()];
    },
    get mode() {
      return mode;
    },
    onList(frame) {
      participants.clear();
      for (const p of frame.participants ?? []) participants.set(p.participant_id, p);
      if (frame.mode) setMode(frame.mode);
      deps.emitParticipants({ participants: [...participants.values()] });
    },
    onUpdate(frame) {
      if (frame.action === 'leave') participants.delete(frame.participant.participant_id);
      else participants.set(frame.participant.participant_id, frame.participant);
      deps.emitParticipants({
        participants: [...participants.values()],
        change: { action: frame.action, participant: frame.participant },
      });
    },
    setMode,
  };
}
