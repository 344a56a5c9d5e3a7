/**
 * Answers to a post that repeats a message id the conversation already sequenced (a client's retry): its
 * duplicate receipt, or CHAT_ERR_MESSAGE_ID_REUSED when it differs from the original (message-id-reuse.ts); and,
 * for a conversation whose dedup index does not reach back to its first record (restored from a long journal),
 * the journal lookup of an id the index does not know. Apart from the actor's post path (conversation-actor.ts)
 * because a retry is the exception: the common post never comes here.
 */
import type { ConversationContext } from './conversation-context';
import { checkRetry, type OriginalRecords } from './message-id-reuse';
import type { MessageTrace } from './message-tracing';
import type { ChatMessage } from './message-types';
import type { PersistenceQueue } from './persistence-queue';
import { PostReceipt } from './post-receipt';
import type { ReplayReader } from './replay-reader';
import type { PostInput, PostResult } from './runtime-types';
import type { ChatStore } from '../storage-providers/chat-store';

export interface PostRetriesParts {
  readonly conversationId: string;
  readonly store: ChatStore;
  /** Whose durability a duplicate receipt reads. */
  readonly queue: PersistenceQueue;
  readonly replay: ReplayReader;
  /** The machine's context now (its recent-records cache). */
  context(): ConversationContext;
  /** The records in memory the journal may not have yet (unstored, then cached). */
  memoryRecords(): readonly ChatMessage[];
}

export class PostRetries {
  private journalLookups: Promise<unknown> = Promise.resolve();
  /** Posts whose lookup is under way (LOOKUP), and the work waiting for the posts before it (afterEarlierPosts). */
  private readonly behindLookups: Array<typeof LOOKUP | (() => void)> = [];

  constructor(private readonly parts: PostRetriesParts) {}

  /**
   * A retry of the accepted record `sequenceId`: its duplicate receipt, or CHAT_ERR_MESSAGE_ID_REUSED when the
   * post differs from the original (message-id-reuse.ts). A refusal is a rejected promise, never a throw, so a
   * caller's catch cannot end the trace a second time.
   */
  answerRetry(input: PostInput, sequenceId: number, traced: MessageTrace): PostResult | Promise<PostResult> {
    return checkRetry<PostResult>(input, sequenceId, this.originals, (reused) => {
      traced.end(sequenceId, reused);
      return reused ? Promise.reject(reused) : new PostReceipt(input.message_id, sequenceId, true, this.parts.queue);
    });
  }

  /**
   * Where answerRetry finds an original: the cache, else memory and the journal through the replay reader.
   * The read starts after the current machine step: a retry arriving in the same batch as its original is
   * answered inside the step that sequenced it, before the snapshot (and the journal queue) holds the record.
   */
  private readonly originals: OriginalRecords = {
    cached: (sequenceId) => this.parts.context().recent.bySequence(sequenceId),
    read: (sequenceId) =>
      Promise.resolve()
        .then(() => this.parts.replay.read(sequenceId - 1, sequenceId, this.parts.memoryRecords(), 1))
        .then(
          (r) => r.records.find((m) => m.sequence_id === sequenceId),
          () => undefined,
        ),
  };

  /**
   * Journal lookup for ids older than the dedup index; chained so posts keep their arrival order. The caller calls
   * handedOn() once it handed the post on (to be sequenced, or answered as a retry).
   */
  findInJournal(input: PostInput): Promise<number | undefined> {
    this.behindLookups.push(LOOKUP);
    const lookup = this.journalLookups.then(() =>
      this.parts.store.findSequenceByMessageId(this.parts.conversationId, input.sender_id, input.message_id).catch(() => undefined),
    );
    this.journalLookups = lookup;
    return lookup;
  }

  /**
   * Runs `run` once every post whose lookup is under way now was handed on, at once when none is. A change of stored
   * records takes its place in the conversation's order here (ConversationActor.sequencedSoFar): a post that came
   * before it but waits for its lookup is sequenced later than the change was received, and must still count as
   * before it.
   */
  afterEarlierPosts(run: () => void): void {
    if (this.behindLookups.length === 0) run();
    else this.behindLookups.push(run);
  }

  /** The post of the oldest lookup was handed on: what waited behind it (up to the next lookup) runs. */
  handedOn(): void {
    // Lookups end in the order they started (chained), so the oldest one is the first entry.
    this.behindLookups.shift();
    while (this.behindLookups.length > 0 && this.behindLookups[0] !== LOOKUP) (this.behindLookups.shift() as () => void)();
  }
}

/** A post's journal lookup in PostRetries.behindLookups, between the work waiting behind it. */
const LOOKUP = 'lookup';
