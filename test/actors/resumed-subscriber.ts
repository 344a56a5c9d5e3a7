import type { ConversationOutput, Subscription } from '../../actors';
import type { ChatRuntime } from '../../actors/runtime-types';
import { collector } from './runtime-helpers';

/**
 * A stop of the conversation ends a paged replay where it is (ReplayFeed.next), so what waits behind it would follow
 * a gap: the subscriber ends at once. Its member's own leave does not end the replay: that `closed` waits in order.
 */
function endsAtOnce(o: ConversationOutput): boolean {
  return o.type === 'failed' || (o.type === 'closed' && o.reason !== 'removed');
}

/** How a resuming subscriber takes its replay: pushed to its listener, or paged, read as fast as it is handed out. */
export type ReplayTaking = 'pushed' | 'paged';

/**
 * A subscription resuming after `from.after` (with `from.history`: at most that many records), as its subscriber sees it: `c` collects the outputs in the order the
 * subscriber takes them. A paged one reads its replay to the end and takes the live outputs that came meanwhile after
 * it, as the gateway's sockets do (gateway/paced-outputs.ts), unless the conversation stops (endsAtOnce); a pushed one takes whatever its listener is handed.
 * close() may come before the subscribe resolves (it then closes the subscription when it does); nothing is taken
 * after it. `subscription` settles once subscribed, `replayed` (never rejects) once the replay was taken.
 */
export function resumedSubscriber(
  runtime: ChatRuntime,
  conversationId: string,
  who: string,
  from: { readonly after: number; readonly history?: number },
  taking: ReplayTaking,
) {
  const c = collector();
  let closed = false;
  let held: ConversationOutput[] | undefined = taking === 'paged' ? [] : undefined;
  const take = (o: ConversationOutput): void => {
    if (!closed) c.listener(o);
  };
  const listener = (o: ConversationOutput): void => {
    if (held === undefined) take(o);
    else if (endsAtOnce(o)) {
      // As the gateway's sockets do (PacedOutputs.live): what waits is dropped, the replay included.
      held = [];
      take(o);
      closed = true;
    } else held.push(o);
  };
  const subscription: Promise<Subscription> = runtime.subscribe(conversationId, who, listener, {
    afterSequenceId: from.after,
    ...(from.history === undefined ? {} : { history: from.history }),
    replayInPages: taking === 'paged',
  });
  const replayed = subscription.then(async (sub) => {
    if (closed) sub.close();
    while (sub.replay && !sub.replay.done) for (const o of await sub.replay.next()) take(o);
    const live = held ?? [];
    held = undefined;
    for (const o of live) take(o);
  });
  const close = (): void => {
    closed = true;
    void subscription.then((sub) => sub.close()).catch(() => undefined);
  };
  return { c, subscription, replayed: replayed.catch(() => undefined), close };
}
