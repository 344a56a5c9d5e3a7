import type { Clock } from './clock';
import { isChatError } from './errors';
import { MESSAGE_TYPES, type ChatMessage } from './message-types';
import type { ChatStore } from '../storage-providers/chat-store';
import { jsonObjectProblem, recordFieldsProblem } from '../storage-providers/record-rules';
import type { ConversationClaim } from '../storage-providers/conversation-claims';

export interface PersistenceQueueOptions {
  readonly conversationId: string;
  readonly store: ChatStore;
  readonly clock: Clock;
  readonly batchMax: number;
  readonly retryInitialMs: number;
  readonly retryMaxMs: number;
  /** The claim the conversation is sequenced under: the store refuses writes once another runtime claimed it. */
  readonly fence?: ConversationClaim;
  /** Called after each stored batch with the highest stored sequence id. */
  readonly onPersisted: (upToSequenceId: number) => void;
  /**
   * Called after each stored batch, before onPersisted, with its records as the journal holds them (a refused
   * record's `lost` placeholder), in order, each once. Optional so that a runtime without an onRecord listener
   * pays one check per batch for it (record-notifier.ts). Must not throw: the writer's loop does not expect it.
   */
  readonly onStored?: (records: readonly ChatMessage[]) => void;
  /**
   * Runs after a batch is stored and before it counts as persisted (e.g. membership table updates). Undefined
   * instead of a promise when it had nothing to do: the writer then goes on without awaiting.
   */
  readonly afterWrite?: (batch: readonly ChatMessage[]) => Promise<void> | undefined;
  /** Called on each failed write (the batch is retried, in order, with backoff). */
  readonly onFailure?: (err: unknown, attempt: number) => void;
  /** Called for each record the store refused as invalid: a `lost` record was stored in its place (replaceRefused). */
  readonly onRefused?: (record: ChatMessage, problem: string) => void;
  readonly onWrite?: (ms: number, ok: boolean, records: number) => void;
}

/**
 * The journal writer of one conversation. Delivery never waits for it: records are queued after
 * they were handed to the connections, and written in order, in batches, by a single writer so
 * the store sees contiguous sequence ids. A failed batch is retried (exponential backoff) until it
 * succeeds or the queue is closed; nothing behind it is written out of order.
 */
export class PersistenceQueue {
  private readonly pending: ChatMessage[] = [];
  private head = 0;
  private writing = false;
  private retryTimer: unknown;
  /** A write deferred to the next turn (see enqueue). */
  private nextTurn: ReturnType<typeof setImmediate> | undefined;
  private attempt = 0;
  /**
   * Records up to this sequence id are written one at a time: a batch the store refused as invalid, with no
   * record the shared rule blames, is split so the store's own verdict falls on one record (replaceRefused).
   */
  private oneByOneUpTo = 0;
  private closed = false;
  private idleWaiters: Array<() => void> = [];
  /** Callers waiting for one record to be stored, in sequence order. */
  private readonly storedWaiters: Array<{ seq: number; resolve: () => void }> = [];
  persistedUpTo: number;
  lastError: unknown;

  constructor(
    private readonly options: PersistenceQueueOptions,
    persistedUpTo: number,
  ) {
    this.persistedUpTo = persistedUpTo;
  }

  /** Records accepted but not yet stored. */
  get depth(): number {
    return this.pending.length - this.head;
  }

  /**
   * When (clock ms) the oldest record not yet stored was sequenced, or undefined when everything is stored. Read from
   * the record's own timestamp (set from the same clock when it was sequenced), so queuing costs nothing extra per
   * record; only a health read parses it.
   */
  get oldestUnstoredAt(): number | undefined {
    return this.depth > 0 ? Date.parse(this.pending[this.head].timestamp) : undefined;
  }

  /** The highest sequence id queued so far, stored or not (what a crashed machine step already handed over). */
  get queuedUpTo(): number {
    return this.depth > 0 ? this.pending[this.pending.length - 1].sequence_id : this.persistedUpTo;
  }

  get failing(): boolean {
    return this.attempt > 0;
  }

  /**
   * Queues records for the journal. `soon` (the default) starts the write once the current actor step
   * has finished (a microtask): a post's `message_ack` can then say `persisted: true` in the same turn.
   * `soon: false` (records nobody waits on, such as an agent's answer) starts it in the next turn, after
   * this turn's frames went out, so the copy into the journal is not paid before delivery. A `soon`
   * record queued meanwhile starts the write at once, for everything queued.
   */
  enqueue(records: readonly ChatMessage[], soon = true): void {
    if (this.closed) return;
    for (const r of records) this.pending.push(r);
    if (this.writing || this.retryTimer !== undefined) return;
    if (soon) this.startWriting();
    else this.nextTurn ??= setImmediate(this.startWriting);
  }

  private readonly startWriting = (): void => {
    if (this.nextTurn !== undefined) clearImmediate(this.nextTurn);
    this.nextTurn = undefined;
    if (this.writing || this.retryTimer !== undefined || this.closed || this.depth === 0) return;
    this.writing = true;
    // Let the current actor step finish (and more records arrive) before writing a batch.
    queueMicrotask(() => void this.writeLoop());
  };

  /** Unstored records, oldest first (for rebuilding after a crash of the machine). */
  unstored(): ChatMessage[] {
    return this.pending.slice(this.head);
  }

  /** Resolves when the record with this sequence id is stored; never rejects (pending forever if never stored). */
  whenStored(seq: number): Promise<void> {
    if (seq <= this.persistedUpTo) return Promise.resolve();
    return new Promise((resolve) => {
      // Kept in sequence order (posts arrive in order; only a retried duplicate can be older), so
      // each stored batch releases its waiters from the front without scanning the rest.
      const waiters = this.storedWaiters;
      let i = waiters.length;
      while (i > 0 && waiters[i - 1].seq > seq) i--;
      waiters.splice(i, 0, { seq, resolve });
    });
  }

  /** Resolves when everything queued so far is stored (or the queue is closed). */
  whenIdle(): Promise<void> {
    if (this.depth === 0 || this.closed) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Stops retrying; what is still queued stays unstored (reported by depth). */
  close(): void {
    this.closed = true;
    if (this.nextTurn !== undefined) clearImmediate(this.nextTurn);
    this.nextTurn = undefined;
    if (this.retryTimer !== undefined) this.options.clock.clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    this.releaseIdleWaiters();
  }

  private async writeLoop(): Promise<void> {
    const { store, conversationId, batchMax } = this.options;
    while (!this.closed && this.depth > 0) {
      const size = this.pending[this.head].sequence_id <= this.oneByOneUpTo ? 1 : batchMax;
      const batch = this.pending.slice(this.head, this.head + size);
      const started = performance.now();
      try {
        await store.appendMessages(conversationId, batch, this.options.fence);
        this.options.onWrite?.(performance.now() - started, true, batch.length);
        const after = this.options.afterWrite?.(batch);
        if (after !== undefined) await after;
      } catch (err) {
        this.options.onWrite?.(performance.now() - started, false, batch.length);
        // A batch whose earlier attempt did commit (e.g. the connection dropped after COMMIT):
        // skip what the store already has instead of retrying forever.
        if (isChatError(err, 'STORAGE_ERR_DUPLICATE_SEQUENCE') && (await this.skipStored(batch))) continue;
        if (isChatError(err, 'STORAGE_ERR_DUPLICATE_MESSAGE') && (await this.renameDuplicates(batch))) continue;
        if (isChatError(err, 'STORAGE_ERR_INVALID_ARGUMENT') && this.replaceRefused(batch, err.message)) continue;
        this.scheduleRetry(err);
        return;
      }
      this.advance(batch);
    }
    this.writing = false;
    if (this.depth === 0) this.releaseIdleWaiters();
  }

  private async skipStored(batch: readonly ChatMessage[]): Promise<boolean> {
    try {
      const stored = await this.options.store.lastSequenceId(this.options.conversationId);
      const already = batch.filter((m) => m.sequence_id <= stored).length;
      if (already === 0) return false;
      const skipped = batch.slice(0, already);
      await this.options.afterWrite?.(skipped);
      this.advance(skipped);
      return true;
    } catch {
      return false;
    }
  }

  /**
   * Last resort for a retry older than every dedup check (it was sequenced and delivered again): the
   * journal must stay contiguous, so the copy is stored under a derived id that points at the original.
   */
  private async renameDuplicates(batch: readonly ChatMessage[]): Promise<boolean> {
    const { store, conversationId } = this.options;
    let renamed = false;
    try {
      for (let i = 0; i < batch.length; i++) {
        const m = batch[i];
        if (m.sender_type === 'system') continue;
        const original = await store.findSequenceByMessageId(conversationId, m.sender_id, m.message_id);
        if (original === undefined || original === m.sequence_id) continue;
        this.pending[this.head + i] = Object.freeze({
          ...m,
          message_id: `${m.message_id}#dup-${m.sequence_id}`,
          metadata: Object.freeze({ ...m.metadata, duplicate_of_sequence: original }),
        });
        renamed = true;
      }
    } catch {
      return false;
    }
    return renamed;
  }

  /**
   * A record the store refuses as invalid (not unavailable) is refused on every retry, and nothing behind it could
   * ever be written. The runtime checks its callers' input and agents' pieces against the shared rule before
   * sequencing (input-rules.ts, agent-output-rules.ts), so this is for what that rule does not foresee: a
   * provider of the embedder's with a stricter rule of its own (a shorter column, a content policy). Each record
   * of the batch the shared rule finds invalid is replaced by a `lost` record under its sequence id, so the
   * journal stays contiguous and goes on, and reported (logged at error). When the rule blames none, a batch of
   * several is written again one record at a time, and a lone record the store refuses is the one to replace,
   * with the store's own reason. The connections got the original; the journal says it could not be stored.
   */
  private replaceRefused(batch: readonly ChatMessage[], storeReason: string): boolean {
    const { conversationId } = this.options;
    let replaced = false;
    for (let i = 0; i < batch.length; i++) {
      const m = batch[i];
      // The actor's own sequence ids are always valid; a placeholder could not fix a bad one.
      if (!Number.isSafeInteger(m.sequence_id) || m.sequence_id < 1) continue;
      const problem =
        recordFieldsProblem(m, conversationId) ??
        jsonObjectProblem(m.metadata, 'metadata') ??
        // A placeholder refused in turn is not replaced again (that would loop): the batch is retried with backoff.
        (batch.length === 1 && !isRefusedPlaceholder(m) ? `the store refused it: ${storeReason}` : undefined);
      if (problem === undefined) continue;
      this.replace(i, m, problem);
      replaced = true;
    }
    if (replaced || batch.length === 1) return replaced;
    this.oneByOneUpTo = batch[batch.length - 1].sequence_id;
    return true;
  }

  private replace(index: number, m: ChatMessage, problem: string): void {
    const at = typeof m.timestamp === 'string' ? m.timestamp : new Date(this.options.clock.now()).toISOString();
    this.pending[this.head + index] = refusedPlaceholder(m, this.options.conversationId, problem, at);
    this.options.onRefused?.(m, problem);
  }

  /** `stored`: the records at the head of the queue the journal now holds. */
  private advance(stored: readonly ChatMessage[]): void {
    const upTo = stored[stored.length - 1].sequence_id;
    this.head += stored.length;
    // Compact occasionally so the array does not grow with the conversation's lifetime.
    if (this.head > 1024 && this.head * 2 > this.pending.length) {
      this.pending.splice(0, this.head);
      this.head = 0;
    }
    this.attempt = 0;
    this.lastError = undefined;
    this.persistedUpTo = upTo;
    let released = 0;
    while (released < this.storedWaiters.length && this.storedWaiters[released].seq <= upTo) this.storedWaiters[released++].resolve();
    if (released > 0) this.storedWaiters.splice(0, released);
    // After the queue's own state moved on: a listener that posts again re-enters a consistent queue.
    if (this.options.onStored !== undefined) this.options.onStored(stored);
    this.options.onPersisted(upTo);
  }

  private scheduleRetry(err: unknown): void {
    this.attempt += 1;
    this.lastError = err;
    this.options.onFailure?.(err, this.attempt);
    // onFailure may have closed the queue (conversation deleted): no retry then.
    if (this.closed) {
      this.writing = false;
      return;
    }
    const { retryInitialMs, retryMaxMs, clock } = this.options;
    const delay = Math.min(retryMaxMs, retryInitialMs * 2 ** Math.min(this.attempt - 1, 20));
    this.writing = false;
    this.retryTimer = clock.setTimeout(() => {
      this.retryTimer = undefined;
      if (this.closed) return;
      this.writing = true;
      void this.writeLoop();
    }, delay);
  }

  private releaseIdleWaiters(): void {
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }
}

/** A `lost` record stored in place of one the store refused (resume-divergence.ts reads it too). */
export function isRefusedPlaceholder(m: ChatMessage): boolean {
  return m.message_type === MESSAGE_TYPES.lost && m.sender_type === 'system' && m.metadata.reason === 'refused';
}

/** The `lost` record stored in place of one the store refused (as the crash placeholders, with reason `refused`). */
function refusedPlaceholder(m: ChatMessage, conversationId: string, problem: string, timestamp: string): ChatMessage {
  return Object.freeze({
    message_id: `lost-${m.sequence_id}`,
    conversation_id: conversationId,
    sequence_id: m.sequence_id,
    sender_id: 'system',
    sender_type: 'system',
    message_type: MESSAGE_TYPES.lost,
    content: `sequence id ${m.sequence_id} could not be stored: ${problem}`,
    timestamp,
    metadata: Object.freeze({ reason: 'refused' }),
  });
}
