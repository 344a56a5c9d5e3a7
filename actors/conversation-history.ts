import { isCut, type Connection, type ConnectionSet } from './conversation-connections';
import type { ConversationContext } from './conversation-context';
import type { ChatMessage } from './message-types';
import type { PersistenceQueue } from './persistence-queue';
import { REPLAY_PAGE_BYTES, ReplayPages, type ReplayPageBounds, type ReplaySource } from './replay-pages';
import { inMemoryRecords, type ReplayReader } from './replay-reader';
import type { ReplayStart } from './replay-start';
import { divergencePoint, type RecordIdentity } from './resume-divergence';
import type { ConversationOutput, HistoryPage } from './runtime-types';
import type { RuntimeServices } from './runtime-services';
import { isUnreadFor, type UnreadRange } from '../storage-providers/read-positions';

export interface ConversationHistoryParts {
  readonly conversationId: string;
  readonly reader: ReplayReader;
  readonly queue: PersistenceQueue;
  readonly connections: ConnectionSet;
  readonly telemetry: RuntimeServices['telemetry'];
  /** The machine's context now (the actor's `ctx`). */
  readonly context: () => Pick<ConversationContext, 'recent' | 'lastSequenceId'>;
  /** chat.cache.replay_page_records: records a replay page holds at most. */
  readonly pageRecords: number;
}

/**
 * A conversation's past as its readers get it: the records still in memory (unstored, then the recent-records
 * cache), history pages, a connection's replay and the unread count's split between memory and the store.
 * Off the post path: read on subscribe, history requests and retries.
 */
export class ConversationHistory {
  // Fields, not the parts object: one object fewer kept per conversation (heap per idle conversation).
  private readonly conversationId: ConversationHistoryParts['conversationId'];
  private readonly reader: ConversationHistoryParts['reader'];
  private readonly queue: ConversationHistoryParts['queue'];
  private readonly connections: ConversationHistoryParts['connections'];
  private readonly telemetry: ConversationHistoryParts['telemetry'];
  private readonly context: ConversationHistoryParts['context'];
  private readonly pageBounds: ReplayPageBounds;

  constructor(parts: ConversationHistoryParts) {
    this.conversationId = parts.conversationId;
    this.reader = parts.reader;
    this.queue = parts.queue;
    this.connections = parts.connections;
    this.telemetry = parts.telemetry;
    this.context = parts.context;
    this.pageBounds = { records: parts.pageRecords, bytes: REPLAY_PAGE_BYTES };
  }

  memoryRecords(): readonly ChatMessage[] {
    return inMemoryRecords(this.queue.unstored(), this.context().recent);
  }

  /** ConversationActor.readHistoryPage: cache first, then the journal, then unstored records. */
  readPage(afterSequenceId: number, limit: number): Promise<HistoryPage> {
    return this.reader.readPage(afterSequenceId, this.context().lastSequenceId, this.memoryRecords(), limit);
  }

  /**
   * The reader's unread records after `after` (isUnreadFor), split where memory ends: those still in memory (every
   * unstored record, and the recent-records cache) counted here, up to `limit`; the older ones as the range the store
   * counts (undefined when memory covers everything after `after`). Records below memory are all stored.
   */
  unreadSplit(readerId: string, after: number, limit: number): { readonly inMemory: number; readonly stored: UnreadRange | undefined } {
    const memory = this.memoryRecords();
    const last = this.context().lastSequenceId;
    let inMemory = 0;
    for (let i = memory.length - 1; i >= 0 && inMemory < limit; i--) {
      const m = memory[i];
      if (m.sequence_id <= after) break;
      if (isUnreadFor(readerId, m)) inMemory++;
    }
    // At the cap already: the count is "at least limit", and the store need not count the older range.
    if (inMemory >= limit) return { inMemory, stored: undefined };
    const memoryFrom = memory[0]?.sequence_id ?? last + 1;
    const storedUpTo = Math.min(memoryFrom - 1, last);
    return { inMemory, stored: storedUpTo > after ? { conversationId: this.conversationId, after, upTo: storedUpTo } : undefined };
  }

  /**
   * Where a resuming subscriber's history left the conversation's (resume-divergence.ts), undefined when it did not.
   * Read at subscribe only.
   */
  divergence(after: number, identity: RecordIdentity): Promise<number | undefined> {
    const last = this.context().lastSequenceId;
    return divergencePoint((from, upTo, limit) => this.reader.read(from, upTo, this.memoryRecords(), limit), after, last, identity);
  }

  /** The connection's replay of (start.after, upTo], read a page at a time (replay-pages.ts); `reset` comes first. */
  replayPages(connection: Connection, start: ReplayStart, upTo: number, reset?: ConversationOutput): ReplayPages {
    const source: ReplaySource = {
      reader: this.reader,
      memory: () => this.memoryRecords(),
      // A leave does not cut a replay begun before it (see Connection.closedByLeave): a `sync` then a `leave` over one
      // socket would otherwise get the leave record with a gap before it.
      isClosed: () => isCut(connection),
      ended: (recovered, fromCache) => this.telemetry.resume(recovered, fromCache),
    };
    return new ReplayPages(source, start, upTo, this.pageBounds, reset);
  }

  /** Hands the replay to the connection's listener, page after page, then the live outputs that waited for it. */
  async pushReplay(connection: Connection, pages: ReplayPages): Promise<void> {
    // Read until done, or until its connection is cut (pages.done: isCut); a member's own leave does not cut it.
    while (!pages.done) this.connections.replayed(connection, await pages.next());
    this.connections.finishReplay(connection);
  }
}
