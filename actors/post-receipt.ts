import type { PostResult } from './runtime-types';

/** What a receipt reads its durability from: the conversation's journal writer. */
export interface JournalProgress {
  readonly persistedUpTo: number;
  whenStored(sequenceId: number): Promise<void>;
}

/**
 * The answer to a post. Durability is read when asked, not fixed at the answer: `persisted` turns true
 * once the journal has the record, and the `whenPersisted` promise (plus its waiter in the journal
 * writer) is only made for a caller that asks for it. The gateway asks only when the journal write has
 * not finished within the turn, so the common post allocates neither.
 */
export class PostReceipt implements PostResult {
  private stored: Promise<void> | undefined;

  constructor(
    readonly message_id: string,
    readonly sequence_id: number,
    readonly duplicate: boolean,
    private readonly journal: JournalProgress,
  ) {}

  get persisted(): boolean {
    return this.sequence_id <= this.journal.persistedUpTo;
  }

  get whenPersisted(): Promise<void> {
    return (this.stored ??= this.journal.whenStored(this.sequence_id));
  }

  /** Plain fields for JSON and logs (the getters are not own properties). */
  toJSON(): Omit<PostResult, 'whenPersisted'> {
    return { message_id: this.message_id, sequence_id: this.sequence_id, duplicate: this.duplicate, persisted: this.persisted };
  }
}
