import type { ConnectionSet } from './conversation-connections';
import { Presence } from './presence';
import { ReadPositions } from './read-positions';
import { ReadPositionSaveLog } from './read-position-save-log';
import type { RuntimeServices } from './runtime-services';
import { TypingDisplay } from './typing-display';

/** What a conversation keeps of its members that is never journaled: kept in the shell, next to the connections. */
export interface MemberEphemera {
  /** Who of the human members is connected (presence.ts). */
  readonly presence: Presence;
  /** What the others are shown of each member's typing, coalesced (typing-display.ts). */
  readonly typingShown: TypingDisplay;
  /** How far each member has read (stored apart, read-positions.ts). */
  readonly reads: ReadPositions;
}

export interface MemberEphemeraParts {
  readonly conversationId: string;
  readonly connections: ConnectionSet;
  readonly lastSequenceId: () => number;
  /** A member went offline: called before the others are told (ConversationActor ends its typing there). */
  readonly wentOffline: (participantId: string) => void;
  /** The members' stored read positions (ChatStore.getReadPositions). */
  readonly storedReadPositions: ReadonlyMap<string, number> | undefined;
  /** The last sequence id once loaded (ReadPositions' end). */
  readonly loadedUpTo: number;
}

/** Builds a conversation's presence, typing display and read positions from config, each announcing to the connections. */
export function createMemberEphemera(deps: RuntimeServices, parts: MemberEphemeraParts): MemberEphemera {
  const { config, clock } = deps;
  // Locals, not `parts`: the announce closures keep only what they use (not the stored positions map).
  const { connections, conversationId, wentOffline } = parts;
  const presence = new Presence({
    clock,
    graceMs: config.chat.presence.offline_grace_s * 1000,
    // Not to the member itself: its new subscription already reads itself online.
    announce: (participantId, online) => {
      if (!online) wentOffline(participantId);
      connections.broadcast({ type: 'presence', participant_id: participantId, online }, participantId);
    },
    batchIntervalMs: config.chat.presence.batch_interval_ms,
    // The same changes for the sockets that asked for batches; each socket takes one of the two (gateway/output-frames.ts).
    // A batch about one member goes to the others only, as its `presence` does; a larger one to every connection (one
    // frame for the room: a member's own sockets then read it online, which they know).
    announceBatch: (changes) => connections.broadcast({ type: 'presence_batch', changes }, soleMemberOf(changes)),
  });
  const typingShown = new TypingDisplay({
    clock,
    stopHoldMs: config.chat.typing.stop_hold_ms,
    repeatMinMs: config.chat.typing.repeat_min_ms,
    announce: (participantId, isTyping) =>
      connections.broadcast({ type: 'typing', participant_id: participantId, is_typing: isTyping }, participantId),
  });
  const reading = config.chat.read_positions;
  const saveLog = new ReadPositionSaveLog({ logger: deps.logger, clock, conversationId });
  const reads = new ReadPositions(
    {
      clock,
      lastSequenceId: parts.lastSequenceId,
      announceIntervalMs: reading.announce_interval_ms,
      saveIntervalMs: reading.save_interval_ms,
      // To every connection, the reader's own included: its other tabs clear their unread marks too.
      announce: (participantId, sequenceId) =>
        connections.broadcast({ type: 'read', participant_id: participantId, sequence_id: sequenceId }),
      // The same raises for the sockets that asked for batches; each socket takes one of the two (gateway/output-frames.ts).
      announceBatch: (positions) => connections.broadcast({ type: 'read_batch', positions }),
      save: (positions) => deps.store.saveReadPositions(conversationId, positions).then(() => saveLog.saved()),
      saveFailed: (err, retrying) => saveLog.failed(err, retrying),
    },
    parts.storedReadPositions,
    parts.loadedUpTo,
  );
  return { presence, typingShown, reads };
}

/** The one participant a batch names, if it names exactly one. */
function soleMemberOf(changes: Readonly<Record<string, boolean>>): string | undefined {
  let sole: string | undefined;
  for (const id in changes) {
    if (sole !== undefined) return undefined;
    sole = id;
  }
  return sole;
}
