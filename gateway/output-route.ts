import { isChatError } from '../actors/errors';
import type { ChatRuntime, ConversationOutput, ReplayFeed, SubscribeOptions, Subscription } from '../actors/runtime-types';
import type { AuthenticatedUser } from './authenticators';
import { assertHumanCaller } from './human-caller';
import { assertOpenToSelfJoin } from './invite-only';

/** Where a route hands its outputs once attached (a connection's PacedOutputs). */
export interface OutputSink {
  /**
   * Everything the route kept before attach, in order (the live outputs that came meanwhile), and the resume's
   * replay that goes before them, read a page at a time (Subscription.replay), if any. The list is the sink's from
   * then on.
   */
  held(outputs: ConversationOutput[], replay?: ReplayFeed): void;
  /** Each output after attach, as it comes. */
  live(output: ConversationOutput): void;
}

/**
 * Where a subscription's outputs go. Outputs are buffered until the connection has sent its
 * `connected` frame, and dropped once the subscription is replaced (sync) or the connection closes.
 */
export interface OutputRoute {
  readonly listener: (output: ConversationOutput) => void;
  /** Hands the sink what was kept, behind `replay` (the subscription's), then each output as it comes. */
  attach(sink: OutputSink, replay?: ReplayFeed): void;
  detach(): void;
}

/** A route that buffers outputs until attach() and drops everything after detach(). */
export function createOutputRoute(): OutputRoute {
  let buffer: ConversationOutput[] | undefined = [];
  let deliver: ((output: ConversationOutput) => void) | undefined;
  return {
    listener(output) {
      if (buffer) buffer.push(output);
      else deliver?.(output);
    },
    attach(sink, replay) {
      const pending = buffer ?? [];
      buffer = undefined;
      // Set first: an output the held ones cause meanwhile goes to the sink, which keeps it behind them.
      deliver = sink.live;
      sink.held(pending, replay);
    },
    detach() {
      buffer = undefined;
      deliver = undefined;
    },
  };
}

/** Where a socket's replay starts: a resume point (last_sequence_id) and a `history` bound, either optional. */
export type ReplayRequest = Pick<SubscribeOptions, 'afterSequenceId' | 'history' | 'lastRecord'>;

/**
 * Subscribes from an optional resume point and `history` bound (`start`, as runtime.subscribe takes them). A resume
 * point past the conversation's end (the client remembers records the server no longer has, e.g. after an in-memory
 * journal was lost) is resumed from the real end by the runtime itself, in this one subscription; the client sees
 * that in `connected.last_sequence_id`. Subscribing a second time from that end, as the gateway once did, let a
 * record posted between the two come as a replayed one after a `connected` that already counted it: the client,
 * moving its cursor back to that id, dropped it as a duplicate (test/client/resume-past-end.test.ts).
 */
export async function subscribeFrom(
  runtime: ChatRuntime,
  conversationId: string,
  userId: string,
  start: ReplayRequest,
): Promise<{ subscription: Subscription; route: OutputRoute }> {
  const route = createOutputRoute();
  // The replay is read a page at a time as the socket takes it (paced-outputs.ts), not all before the upgrade ends.
  const subscription = await runtime.subscribe(conversationId, userId, route.listener, { ...start, replayInPages: true });
  return { subscription, route };
}

/**
 * Refuses (CHAT_ERR_FORBIDDEN) and releases a subscription whose user id is an AI participant of the conversation.
 * Checked on the subscription's own participant list, taken with the subscription: no join can slip between the
 * two. A connection opened this way stays human: the id cannot become an AI member while it is one (runtime join).
 */
function keepIfHuman(subscribed: { subscription: Subscription; route: OutputRoute }, userId: string): typeof subscribed {
  try {
    assertHumanCaller(subscribed.subscription.participants, userId);
  } catch (err) {
    subscribed.route.detach();
    subscribed.subscription.close();
    throw err;
  }
  return subscribed;
}

/**
 * subscribeFrom for a connecting user; with `joinIfNeeded` (`?join=true` on the WebSocket URL) a
 * non-participant first joins as a human and then subscribes, in one round trip for the client; `beforeJoin` runs
 * just before that join only (a member asking join=true changes nothing) and refuses it by throwing; an
 * invite-only conversation refuses it after that (CHAT_ERR_INVITE_ONLY, invite-only.ts), as the HTTP join does.
 * A user whose id is an AI participant's is refused either way (keepIfHuman).
 */
export async function subscribeAsHuman(
  runtime: ChatRuntime,
  conversationId: string,
  user: AuthenticatedUser,
  start: ReplayRequest,
  joinIfNeeded: false | { readonly beforeJoin: () => void },
): Promise<{ subscription: Subscription; route: OutputRoute }> {
  try {
    return keepIfHuman(await subscribeFrom(runtime, conversationId, user.userId, start), user.userId);
  } catch (err) {
    if (!isChatError(err, 'CHAT_ERR_NOT_PARTICIPANT') || !joinIfNeeded) throw err;
    joinIfNeeded.beforeJoin();
    // A member now (added meanwhile) of an invite-only conversation subscribes without a join a removal could race.
    const member = await assertOpenToSelfJoin(runtime, conversationId, user.userId);
    if (member === undefined) {
      await runtime.join(conversationId, {
        participant_id: user.userId,
        participant_type: 'human',
        display_name: user.displayName ?? user.userId,
      });
    }
    return keepIfHuman(await subscribeFrom(runtime, conversationId, user.userId, start), user.userId);
  }
}
