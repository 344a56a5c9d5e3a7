import type { ChatRuntime, Subscription } from '../actors/runtime-types';
import { subscribeFrom, type OutputRoute, type OutputSink, type ReplayRequest } from './output-route';

/** Who re-subscribes: one participant's connection to one conversation. */
export interface SubscriptionOwner {
  readonly runtime: ChatRuntime;
  readonly conversationId: string;
  readonly userId: string;
  /** A closing connection takes no new subscription. */
  isClosing(): boolean;
}

/**
 * The subscription one connection currently forwards. A `sync` frame replaces it; the old route is
 * dropped at once, so after the sync the client receives exactly the records after its resume point, in order.
 */
export class ConnectionSubscription {
  /** Bumped by every replace(): only the newest re-subscription takes over. */
  private generation = 0;
  /** Sequence id up to which history was replayed; later join/leave/mode records also get update frames. */
  private replayedUpTo: number;

  constructor(
    private readonly owner: SubscriptionOwner,
    private subscription: Subscription,
    private route: OutputRoute,
  ) {
    this.replayedUpTo = subscription.lastSequenceId;
  }

  get current(): Subscription {
    return this.subscription;
  }

  get liveAfter(): number {
    return this.replayedUpTo;
  }

  /** Starts delivering: the subscription's replay, page by page, then whatever the route buffered meanwhile. */
  attach(sink: OutputSink): void {
    this.route.attach(sink, this.subscription.replay);
  }

  /** Stops delivery and releases the runtime subscription (on close). */
  drop(): void {
    this.route.detach();
    this.subscription.close();
  }

  /**
   * Subscribes again from `start` (a `sync` frame's) and delivers to `sink`, after handing the new subscription to
   * `greet` (which sends its participant list: the replay carries no update frames, and membership changes made
   * while no subscription was routed reached this socket in no other way). A replacement that finishes after
   * a newer one started, or after the connection began closing, is released silently, and so is its error;
   * only the error of the current replacement is thrown.
   */
  async replace(start: ReplayRequest, sink: OutputSink, greet: (subscription: Subscription) => void): Promise<void> {
    const { runtime, conversationId, userId, isClosing } = this.owner;
    // Outputs of the old subscription stop at once; the new one replays from the requested point.
    this.route.detach();
    const generation = ++this.generation;
    const superseded = (): boolean => isClosing() || generation !== this.generation;
    try {
      const { subscription, route } = await subscribeFrom(runtime, conversationId, userId, start);
      if (superseded()) {
        route.detach();
        subscription.close();
        return;
      }
      const previous = this.subscription;
      this.subscription = subscription;
      this.route = route;
      previous.close();
      this.replayedUpTo = subscription.lastSequenceId;
      greet(subscription);
      route.attach(sink, subscription.replay);
    } catch (err) {
      if (superseded()) return;
      throw err;
    }
  }
}
