import type { Outcome } from './conversation-context';
import type { PostFields } from './conversation-events';

/** A post waiting to be sequenced, and how to answer its caller. */
export interface PendingPost {
  readonly fields: PostFields;
  answer(outcome: Outcome): void;
}

/**
 * A queued post with its promise's settle functions: one object per post, where a closure per post over them
 * (`answer`) cost a closure and a context more on every post.
 */
class QueuedPost<T> implements PendingPost {
  constructor(
    readonly fields: PostFields,
    private readonly settle: (outcome: Outcome) => T | PromiseLike<T>,
    private readonly resolve: (value: T | PromiseLike<T>) => void,
    private readonly reject: (reason: unknown) => void,
  ) {}

  answer(outcome: Outcome): void {
    try {
      this.resolve(this.settle(outcome));
    } catch (err) {
      this.reject(err);
    }
  }
}

/**
 * The posts that reached one conversation in the current event-loop turn. They are handed over together
 * once the turn's promise callbacks have run (a post arrives in one: the runtime awaits the conversation
 * first), so the actor sequences them in one machine step (the POSTS event, actors/post-batch.ts).
 * Anything else the actor is asked to do first calls `flush()`, so arrival order is kept across kinds.
 */
export class PendingPosts {
  private posts: PendingPost[] = [];
  private scheduled = false;

  constructor(private readonly sequence: (batch: readonly PendingPost[]) => void) {}

  /** Posts waiting (part of the conversation's pending work, for the mailbox bound). */
  get size(): number {
    return this.posts.length;
  }

  /**
   * Queues a post; the promise settles with `settle(outcome)` (or rejects with what it throws), so a
   * caller turning the outcome into its answer needs no second promise. `settle` may return a promise
   * (a retry whose original must be read first): the post's promise then follows it.
   */
  add<T>(fields: PostFields, settle: (outcome: Outcome) => T | PromiseLike<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.posts.push(new QueuedPost(fields, settle, resolve, reject));
      if (this.scheduled) return;
      this.scheduled = true;
      queueMicrotask(this.flush);
    });
  }

  /** Sequences what is waiting now (idempotent; the scheduled callback then finds nothing). */
  readonly flush = (): void => {
    this.scheduled = false;
    if (this.posts.length === 0) return;
    const batch = this.posts;
    this.posts = [];
    this.sequence(batch);
  };
}
