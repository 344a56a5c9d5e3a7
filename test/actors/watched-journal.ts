import type { ChatMessage } from '../../actors';
import { ChatError } from '../../actors/errors';
import { GatedStore } from './runtime-helpers';

/**
 * A memory journal for the replay tests (test/actors/replay-pages.test.ts, test/gateway/replay-pages.test.ts):
 * counts what its reads return, can fail them, and (GatedStore) holds its writes back while blocked.
 */
export class WatchedJournal extends GatedStore {
  readonly reads: Array<{ after: number; limit: number; got: number }> = [];
  failReads = false;

  /** The records every read so far returned. */
  get recordsRead(): number {
    return this.reads.reduce((n, r) => n + r.got, 0);
  }

  /** The most records one read returned. */
  get largestRead(): number {
    return this.reads.reduce((most, r) => Math.max(most, r.got), 0);
  }

  protected override async _readMessages(conversationId: string, after: number, limit: number): Promise<ChatMessage[]> {
    if (this.failReads) throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'reads are failing');
    const got = await super._readMessages(conversationId, after, limit);
    this.reads.push({ after, limit, got: got.length });
    return got;
  }
}
