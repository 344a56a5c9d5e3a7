import type { ErrorCode } from '../actors/errors';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMode, type Participant } from '../actors/message-types';
import type { ClosedReason, ConversationOutput, Subscription } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import type { DeliveryProgress } from './delivery-progress';
import { errorFrame } from './error-frames';
import type { FrameSender } from './frame-sender';
import type { ConnectedFrame, ConnectionFeature, ParticipantListFrame, ServerFrame } from './protocol/server-frames';

/**
 * How a connection writes frames, as forwarding needs it: a WebSocket's FrameSender, or an event stream's
 * (sse-sender.ts), which writes the same frames as Server-Sent Events.
 */
export type OutputFrameSender = Pick<FrameSender, 'message' | 'frame' | 'shared' | 'flushHeld'>;

/** What forwarding outputs needs from the connection they are for. */
export interface OutputTarget {
  readonly userId: string;
  readonly sender: OutputFrameSender;
  readonly progress: DeliveryProgress;
  /** Sequence id up to which history was replayed; later join/leave/mode records also get update frames. */
  readonly liveAfter: number;
  /** True while this connection's own `leave` frame is being processed. */
  readonly isLeaving: boolean;
  /** The socket asked for `read_batch` frames (an `options` frame): it gets those instead of `read` frames. */
  readonly readBatches: boolean;
  /** The socket offered the presence-batches subprotocol: it gets `presence_batch` frames instead of `presence` frames. */
  readonly presenceBatches: boolean;
  /** Ends the connection with the close code of `code` (or a plain close code). */
  closeWith(code: ErrorCode | number): void;
}

/** The first two frames of every connection: `connected` (where the client stands) and `participant_list`. */
export function welcomeFrames(
  sub: Subscription,
  userId: string,
  protocolVersion: number,
  config: NlwebChatConfig,
  now: number,
  /** The opt-ins the connection offers (an event stream: none, it cannot ask). */
  features: readonly ConnectionFeature[] = [],
): [ConnectedFrame, ParticipantListFrame] {
  const input = config.chat.input;
  return [
    {
      type: 'connected',
      protocol_version: protocolVersion,
      conversation_id: sub.conversationId,
      participant_id: userId,
      mode: sub.mode,
      input_timeout: sub.mode === 'multi' ? input.multi_mode_window_ms : input.single_mode_typing_window_ms,
      last_sequence_id: sub.lastSequenceId,
      connection_id: sub.connectionId,
      server_time: new Date(now).toISOString(),
      limits: {
        max_frame_bytes: config.server.websocket.max_frame_bytes,
        max_message_length: config.chat.limits.max_message_length,
        max_metadata_bytes: config.chat.limits.max_metadata_bytes,
        rate_limit_per_second: config.chat.limits.rate_limit_per_second,
        rate_limit_burst: config.chat.limits.rate_limit_burst,
      },
      ...(features.length === 0 ? {} : { features }),
    },
    participantListFrame(sub),
  ];
}

/**
 * The full roster, sent once per subscription: on connect (welcome) and at the start of a `sync`'s answer. Members
 * and mode as of the subscription's start (the end of the replay that follows); later changes come as
 * `participant_update`, `mode_change` and `presence` frames, never as another list: re-sending it to every socket
 * on every join made a mass join cost O(members) bytes per socket per join (docs/protocol.md, Measured).
 */
export function participantListFrame(sub: Subscription): ParticipantListFrame {
  // Presence as of now (the subscription reads it live). Presence frames buffered since subscribing follow: they
  // may repeat what the list says (or, after two changes in that window, undo it briefly); the last one per member
  // is its current state, as each frame carries the whole state of one member.
  // Read positions as of now too (read live, like presence): `read` frames follow each later raise.
  return {
    type: 'participant_list',
    participants: sub.participants,
    mode: sub.mode,
    online: sub.online,
    read_positions: sub.readPositions,
  };
}

/** Translates one runtime output into the frames of one connection (docs/protocol.md). */
export function forwardOutput(output: ConversationOutput, target: OutputTarget): void {
  switch (output.type) {
    case 'message': {
      const message = output.message;
      // Another participant's record goes out right after the actor step; our own waits for its message_ack.
      const someoneElses = message.sender_id !== target.userId;
      const endsStep = someoneElses && output.endsDelivery === true;
      // Held, not `soon`, when the step's end flushes it below anyway: no microtask queued to find nothing.
      target.sender.message(message, someoneElses && !endsStep);
      target.progress.sent(message.sequence_id);
      if (message.sequence_id > target.liveAfter) {
        const update = liveUpdateFrame(message);
        if (update) target.sender.frame(update);
      }
      // The step's last record for this socket: write what it holds now, while the step still runs its other
      // effects (journal, acks, agent turns), not a microtask after them. The peer's latency, docs/benchmarks.md.
      if (endsStep) target.sender.flushHeld();
      return;
    }
    case 'persisted':
      // Not forwarded: it would be N frames per journal batch, and the only party that needs durability
      // news, the sender, gets a message_ack with persisted: true per post (see delivery-progress.ts).
      return;
    // Broadcast outputs reach every connection as the same object: serialise once for all of them.
    case 'typing':
      if (output.participant_id !== target.userId) forwardShared(target.sender, output);
      return;
    case 'presence':
      if (target.presenceBatches) return;
      forwardShared(target.sender, output);
      return;
    case 'presence_batch':
      // One frame per interval for the whole room instead of one per member (actors/interval-batches.ts), if asked for.
      if (!target.presenceBatches) return;
      forwardShared(target.sender, output);
      return;
    case 'read':
      // The reader's own sockets too: another tab clears its unread mark. At most one per member per interval.
      // A socket taking batches has these raises in its next `read_batch`.
      if (target.readBatches) return;
      forwardShared(target.sender, output);
      return;
    case 'read_batch':
      // One frame per interval for the whole room instead of one per member (actors/interval-batches.ts), if asked for.
      if (!target.readBatches) return;
      forwardShared(target.sender, output);
      return;
    case 'participants':
      // Not forwarded: a connected socket already has the list from its welcome, and this step's join/leave and
      // mode change reached it as participant_update / mode_change frames (liveUpdateFrame), which say the same.
      return;
    case 'sync_complete':
      target.sender.frame({
        type: 'sync_complete',
        from: output.from,
        to: output.to,
        recovered: output.recovered,
        ...(output.has_earlier === undefined ? {} : { has_earlier: output.has_earlier }),
      });
      return;
    case 'reset':
      target.sender.frame({ type: 'reset', after: output.after, last_sequence_id: output.last_sequence_id });
      return;
    case 'failed':
      target.sender.frame(errorFrame('CHAT_ERR_CONVERSATION_FAILED', output.reason.slice(0, 500)));
      target.closeWith('CHAT_ERR_CONVERSATION_FAILED');
      return;
    case 'closed':
      // This connection's own leave: its leave() closes with 1000 once the frames read before it are answered (an ack
      // still on its way would be cut off by a close here).
      if (output.reason === 'removed' && target.isLeaving) return;
      target.closeWith(closeCodeForClosed(output.reason));
      return;
  }
}

type BroadcastOutput = Extract<ConversationOutput, { type: 'typing' | 'presence' | 'presence_batch' | 'read' | 'read_batch' }>;

/**
 * A broadcast output's frame, serialised once for every connection. Its own function, not a case of forwardOutput:
 * a closure over `output` there made V8 allocate a context for `output` on every call of forwardOutput, so on each
 * `message` output too (~80 bytes per call, two calls per message on the gateway benchmark).
 */
function forwardShared(sender: OutputFrameSender, output: BroadcastOutput): void {
  sender.shared(output, () => {
    switch (output.type) {
      case 'typing':
        return { type: 'typing', participant_id: output.participant_id, is_typing: output.is_typing };
      case 'presence':
        return { type: 'presence', participant_id: output.participant_id, online: output.online };
      case 'presence_batch':
        return { type: 'presence_batch', changes: output.changes };
      case 'read':
        return { type: 'read', participant_id: output.participant_id, sequence_id: output.sequence_id };
      case 'read_batch':
        return { type: 'read_batch', positions: output.positions };
    }
  });
}

/** How a connection ends when the runtime closes its subscription. */
function closeCodeForClosed(reason: ClosedReason): ErrorCode {
  // Removed by anything but this connection's own leave (which leave() ends with 1000): left from another connection,
  // or removed by the owner. Final.
  if (reason === 'removed') return 'CHAT_ERR_NOT_PARTICIPANT';
  if (reason === 'deleted') return 'CHAT_ERR_NOT_FOUND';
  // Another server claimed the conversation: the client reconnects (the load balancer may send it there).
  if (reason === 'moved') return 'CHAT_ERR_OWNED_ELSEWHERE';
  // Shutdown: the client reconnects (with backoff) and resumes.
  return 'GATEWAY_ERR_SHUTTING_DOWN';
}

/**
 * The dedicated update frame of a live join/leave/mode record (`participant_update` / `mode_change`),
 * or undefined for any other record. Replayed history gets none: the client has the participant list.
 */
export function liveUpdateFrame(message: ChatMessage): ServerFrame | undefined {
  const meta = message.metadata as { participant?: Participant; participant_count?: number; mode?: ConversationMode };
  if ((message.message_type === MESSAGE_TYPES.join || message.message_type === MESSAGE_TYPES.leave) && meta.participant) {
    return {
      type: 'participant_update',
      action: message.message_type === MESSAGE_TYPES.join ? 'join' : 'leave',
      participant: meta.participant,
      participant_count: typeof meta.participant_count === 'number' ? meta.participant_count : 0,
    };
  }
  if (message.message_type === MESSAGE_TYPES.modeChange && (meta.mode === 'single' || meta.mode === 'multi')) {
    return { type: 'mode_change', mode: meta.mode, sequence_id: message.sequence_id };
  }
  return undefined;
}
