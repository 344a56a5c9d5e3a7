import { ChatError, isChatError } from './errors';
import type { MessageEdit } from './conversation-events';
import { editedMetadata, editRecordId } from './conversation-reducers';
import { FencedChanges, type FencedConversation } from './fenced-changes';
import { MESSAGE_TYPES, type ChatMessage, type ConversationMeta, type Participant } from './message-types';
import type { EditOutcome, RedactOptions, RedactOutcome } from './runtime-types';
import { unannouncedRedactions } from './unannounced-redactions';
import { REDACTION_MARKER, type ChatStore, type RedactionResult, type RedactionTarget } from '../storage-providers/chat-store';

/** What edits and deletes need of a live conversation (ConversationActor); its claim fences their store writes. */
export interface EditedConversation extends FencedConversation {
  readonly meta: ConversationMeta;
  readonly participants: readonly Participant[];
  isMember(participantId: string): boolean;
  /** Waits until everything sequenced (once `after` settled) is stored; false when the deadline passed first. */
  flush(deadlineMs: number, after?: Promise<unknown>): Promise<boolean>;
  /** Resolves once this runtime's claim is current (ConversationActor.whenClaimCurrent); rejects once it stopped. */
  whenClaimCurrent(): Promise<void>;
  /** Sequences the `redaction` record of a stored redaction: its sequence id (none while the machine is rebuilt). */
  redact(sequenceIds: readonly number[], requestedBy: string, marker: string): Promise<number | undefined>;
  /** Sequences the `edit` record of a stored edit; resolves once the cache has the edit, with the record's id (as redact). */
  edit(change: MessageEdit): Promise<number | undefined>;
}

export interface MessageEditsDeps {
  readonly store: ChatStore;
  /** ms, the runtime's clock: the edit time written on the record. */
  now(): number;
  /** How long a change waits for the journal to store what is queued (observability.shutdown_deadline_s). */
  readonly flushDeadlineMs: number;
  /**
   * The conversation as live now, loaded again if it stopped (the runtime's); refuses when it cannot be (runtime
   * shutting down, conversation held by another server).
   */
  reopen(conversationId: string): Promise<EditedConversation>;
}

/** Records read per page when looking for the edits of redacted records. */
const READ_PAGE = 500;

/**
 * Changes of stored records' content: a member's edit and delete of its own messages, and the owner's redaction.
 * Each is: the journal catches up (a record still queued would escape the change and be stored as it was), the
 * store changes the records, then a sequenced record (`edit`, `redaction`) tells every member, in the order of the
 * journal. Changes of one conversation run one at a time: an edit and a delete of one message racing between the
 * store and the machine would otherwise leave the cache and the journal disagreeing on which came last.
 */
export class MessageEdits {
  private readonly tails = new Map<string, Promise<unknown>>();

  constructor(private readonly deps: MessageEditsDeps) {}

  /**
   * Replaces the content of the requester's own `text` message `messageId` (docs/conversations.md, Edits and deletes).
   * `received`: the conversation's last sequence id when the edit was received (ConversationActor.sequencedSoFar).
   */
  edit(
    conversationId: string,
    conversation: EditedConversation,
    change: { readonly requesterId: string; readonly messageId: string; readonly content: string; readonly received: Promise<number> },
  ): Promise<EditOutcome> {
    const { requesterId, messageId, content } = change;
    if (!conversation.isMember(requesterId)) return Promise.reject(new ChatError('CHAT_ERR_NOT_PARTICIPANT'));
    return this.oneAtATime(conversationId, async () => {
      this.requireReplacement();
      const receivedUpTo = await this.catchUp(conversation, 'edit', change.received);
      const record = await this.ownRecord(conversationId, requesterId, messageId, receivedUpTo);
      if (record.metadata.redacted === true) {
        throw new ChatError('CHAT_ERR_FORBIDDEN', `message ${JSON.stringify(messageId)} was deleted; it cannot be edited`);
      }
      if (record.message_type !== MESSAGE_TYPES.text || record.sender_type !== 'human') {
        throw new ChatError(
          'CHAT_ERR_FORBIDDEN',
          `only text messages can be edited; ${JSON.stringify(messageId)} is ${record.message_type}`,
        );
      }
      // The same edit again (a client's re-send) changes nothing and tells nobody, unless the conversation stopped
      // between storing it and sequencing its record: then no record carries it yet, and this re-send announces it.
      if (record.content === content) {
        const unannounced = await this.unannouncedEdit(conversationId, record);
        if (unannounced === undefined) return { message: record, changed: false };
        const recordSequenceId = await this.announce(conversationId, conversation, (c) => c.edit(unannounced));
        return recordSequenceId === undefined ? { message: record, changed: true } : { message: record, changed: true, recordSequenceId };
      }
      const previous = record.metadata.edit_count;
      const edit: MessageEdit = {
        sequenceId: record.sequence_id,
        messageId,
        senderId: requesterId,
        content,
        editedAt: new Date(this.deps.now()).toISOString(),
        editCount: (typeof previous === 'number' ? previous : 0) + 1,
      };
      const writes = new FencedChanges(this.deps.store, conversationId, conversation);
      const stored = await writes.replace(record.sequence_id, { senderId: requesterId, content, metadata: editedMetadata(edit) });
      if (stored === undefined)
        throw new ChatError('CHAT_ERR_FORBIDDEN', `message ${JSON.stringify(messageId)} was deleted; it cannot be edited`);
      const recordSequenceId = await this.announce(conversationId, conversation, (c) => c.edit(edit));
      return recordSequenceId === undefined ? { message: stored, changed: true } : { message: stored, changed: true, recordSequenceId };
    });
  }

  /**
   * The owner (or, without requesterId, the embedder) redacts anything; another member only its own messages, by
   * message id. Answers the sequence ids redacted, the edit records carrying earlier texts of those messages
   * included, and which were redacted already. Each redaction is announced once: what was redacted and announced
   * before is left out of the record, and what was redacted before but never announced (its record lost to a stop)
   * is announced now. `received`: the conversation's last sequence id when the request was received
   * (ConversationActor.sequencedSoFar); nothing sequenced after it is redacted (a member's delete naming such a message
   * is refused; the owner's redaction leaves it out). The edit records of a redacted message go with it wherever they
   * stand: an edit made before this redaction may be sequenced after its point, and carries that message's text.
   */
  redact(
    conversationId: string,
    conversation: EditedConversation,
    request: { readonly target: RedactionTarget; readonly requesterId?: string; readonly received: Promise<number> },
    options: RedactOptions = {},
  ): Promise<RedactOutcome> {
    const { target, requesterId } = request;
    if (options.ownMessagesOnly === true && requesterId === undefined) {
      return Promise.reject(new ChatError('CHAT_ERR_INVALID_ARGUMENT', 'ownMessagesOnly needs a requesterId: whose messages?'));
    }
    const owner = options.ownMessagesOnly !== true && (requesterId === undefined || isOwner(conversation, requesterId));
    if (!owner) {
      if (requesterId === undefined || !conversation.isMember(requesterId) || !('messageIds' in target)) {
        return Promise.reject(
          new ChatError(
            'CHAT_ERR_FORBIDDEN',
            'only the conversation owner may redact; members may delete their own messages by message_ids',
          ),
        );
      }
    }
    return this.oneAtATime(conversationId, async () => {
      if (!owner) this.requireReplacement();
      const receivedUpTo = await this.catchUp(conversation, 'redaction', request.received);
      const writes = new FencedChanges(this.deps.store, conversationId, conversation);
      const named = owner
        ? await this.redactAny(conversationId, writes, target, receivedUpTo)
        : await this.deleteOwn(
            conversationId,
            writes,
            requesterId!,
            (target as { messageIds: readonly string[] }).messageIds,
            receivedUpTo,
          );
      const edits = await this.redactEditsOf(conversationId, writes, named.records);
      const fresh = [...named.redacted, ...edits.redacted];
      const already = ascending([...named.alreadyRedacted, ...edits.alreadyRedacted]);
      const unannounced = already.length > 0 ? await unannouncedRedactions(this.deps.store, conversationId, already) : [];
      const announced = ascending([...fresh, ...unannounced]);
      const recordSequenceId =
        announced.length > 0
          ? await this.announce(conversationId, conversation, (c) => c.redact(announced, requesterId ?? 'runtime', REDACTION_MARKER))
          : undefined;
      const outcome = { redacted: ascending([...fresh, ...already]), alreadyRedacted: already, changed: announced.length > 0 };
      return recordSequenceId === undefined ? outcome : { ...outcome, recordSequenceId };
    });
  }

  /**
   * Tells the conversation of a change already stored. One that stopped meanwhile (passivated while the store was
   * written, or moved: CHAT_ERR_CLOSED) would drop it, so it goes to the conversation as loaded again, which then
   * holds the stored content; a runtime shutting down, or a conversation another server holds now, refuses.
   */
  private async announce(
    conversationId: string,
    conversation: EditedConversation,
    tell: (conversation: EditedConversation) => Promise<number | undefined>,
  ): Promise<number | undefined> {
    try {
      return await tell(conversation);
    } catch (err) {
      if (!isChatError(err, 'CHAT_ERR_CLOSED')) throw err;
      return await tell(await this.deps.reopen(conversationId));
    }
  }

  /** The edit that left `record` as it is, when no stored `edit` record carries it (a `lost` one does not either). */
  private async unannouncedEdit(conversationId: string, record: ChatMessage): Promise<MessageEdit | undefined> {
    const { edited, edited_at: editedAt, edit_count: editCount } = record.metadata;
    if (edited !== true || typeof editCount !== 'number' || typeof editedAt !== 'string') return undefined;
    const announced = await this.deps.store.findSequenceByMessageId(conversationId, 'system', editRecordId(record.sequence_id, editCount));
    if (announced !== undefined) return undefined;
    return {
      sequenceId: record.sequence_id,
      messageId: record.message_id,
      senderId: record.sender_id,
      content: record.content,
      editedAt,
      editCount,
    };
  }

  /**
   * The owner's redaction: any sender's records, by message ids or by sender, sequenced by `receivedUpTo` (when it was
   * received). "Redact everything bob said" is what bob had said when it was asked: a post of his that reached the
   * conversation after the request (its next frame, or sequenced while this waited for the journal or for a change
   * ahead of it) is not taken, as a member's delete does not take a message posted after it (ownSequenceId).
   */
  private async redactAny(
    conversationId: string,
    writes: FencedChanges,
    target: RedactionTarget,
    receivedUpTo: number,
  ): Promise<NamedRecords> {
    const found = await writes.redact(target, receivedUpTo);
    // Only a store that replaces content holds edits, whose records must go too (those of records redacted already
    // as well: a redaction cut short by a stop may have left them).
    const records = this.deps.store.supports.replaceContent
      ? await this.readRecords(conversationId, ascending([...found.redacted, ...found.alreadyRedacted]))
      : [];
    return { ...found, records };
  }

  /**
   * A member's delete: every named message must be its own, sequenced by `receivedUpTo` (when the delete was
   * received), or nothing changes. Already deleted ones are named apart.
   */
  private async deleteOwn(
    conversationId: string,
    writes: FencedChanges,
    requesterId: string,
    messageIds: readonly string[],
    receivedUpTo: number,
  ): Promise<NamedRecords> {
    const sequenceIds: number[] = [];
    for (const messageId of new Set(messageIds)) {
      sequenceIds.push(await this.ownSequenceId(conversationId, requesterId, messageId, receivedUpTo, 'delete'));
    }
    const held = await this.readRecords(conversationId, ascending(sequenceIds));
    // A join or leave record carries the member's id as its sender, yet is the runtime's: not the member's to delete.
    for (const record of held) {
      if (record.sender_type !== 'human') {
        throw new ChatError(
          'CHAT_ERR_FORBIDDEN',
          `${JSON.stringify(record.message_id)} is a ${record.message_type} record, not a message; it cannot be deleted`,
        );
      }
    }
    const records: ChatMessage[] = [];
    const redacted: number[] = [];
    const alreadyRedacted: number[] = [];
    for (const record of held) {
      if (record.metadata.redacted === true) {
        alreadyRedacted.push(record.sequence_id);
        records.push(record);
        continue;
      }
      const deleted = await writes.replace(record.sequence_id, redaction(requesterId));
      if (deleted === undefined) continue;
      redacted.push(deleted.sequence_id);
      records.push(deleted);
    }
    return { redacted, alreadyRedacted, records };
  }

  /**
   * The edit records of these (now redacted) records: each carries one earlier text of its message, so a delete
   * that left them would keep what was deleted. Found by their message ids (editRecordId), sender `system`; those
   * redacted already (with their message, before) are named apart.
   */
  private async redactEditsOf(conversationId: string, writes: FencedChanges, records: readonly ChatMessage[]): Promise<RedactionResult> {
    const redacted: number[] = [];
    const alreadyRedacted: number[] = [];
    for (const record of records) {
      const count = record.metadata.edit_count;
      if (typeof count !== 'number') continue;
      for (let n = 1; n <= count; n++) {
        const seq = await this.deps.store.findSequenceByMessageId(conversationId, 'system', editRecordId(record.sequence_id, n));
        // An edit record lost in a crash (a `lost` record stands there) carries nothing.
        if (seq === undefined) continue;
        const scrubbed = await writes.replace(seq, redaction('system'));
        // Held (found by its id) and not changed: it is redacted already.
        (scrubbed !== undefined ? redacted : alreadyRedacted).push(seq);
      }
    }
    return { redacted, alreadyRedacted };
  }

  /** The stored records of these sequence ids (ascending), read in pages over the range they span. */
  private async readRecords(conversationId: string, sequenceIds: readonly number[]): Promise<ChatMessage[]> {
    const wanted = new Set(sequenceIds);
    const found: ChatMessage[] = [];
    let i = 0;
    while (i < sequenceIds.length) {
      const from = sequenceIds[i];
      const page = await this.deps.store.readMessages(conversationId, from - 1, READ_PAGE);
      for (const m of page) if (wanted.has(m.sequence_id)) found.push(m);
      const last = page.length > 0 ? page[page.length - 1].sequence_id : from;
      while (i < sequenceIds.length && sequenceIds[i] <= last) i++;
      if (page.length === 0) i++;
    }
    return found;
  }

  /** The requester's own record `messageId`, as stored (one sequenced by `receivedUpTo`: ownSequenceId). */
  private async ownRecord(conversationId: string, requesterId: string, messageId: string, receivedUpTo: number): Promise<ChatMessage> {
    const seq = await this.ownSequenceId(conversationId, requesterId, messageId, receivedUpTo, 'edit');
    const [record] = await this.deps.store.readMessages(conversationId, seq - 1, 1);
    if (record?.sequence_id !== seq) {
      throw new ChatError('CHAT_ERR_FORBIDDEN', `message ${JSON.stringify(messageId)} is no longer held (the journal dropped it)`);
    }
    return record;
  }

  /**
   * The sequence id of the requester's record `messageId`, if it was sequenced by `receivedUpTo`. One sequenced after
   * the change was received is unknown to it, as when the change was judged: a client's `delete` or `edit` sent before
   * the `message` it names (one socket, back to back) found the post in the store and changed a message the client
   * had not sent yet when it sent the change.
   */
  private async ownSequenceId(
    conversationId: string,
    requesterId: string,
    messageId: string,
    receivedUpTo: number,
    verb: 'edit' | 'delete',
  ): Promise<number> {
    const seq = await this.deps.store.findSequenceByMessageId(conversationId, requesterId, messageId);
    if (seq === undefined || seq > receivedUpTo) throw notOwn(messageId, verb);
    return seq;
  }

  private requireReplacement(): void {
    if (!this.deps.store.supports.replaceContent) {
      throw new ChatError(
        'STORAGE_ERR_UNSUPPORTED',
        `the ${this.deps.store.name} store cannot change a stored record: members cannot edit or delete their messages`,
      );
    }
  }

  /** The journal stored what came before the change; answers the change's point (`received`, settled by then). */
  private async catchUp(conversation: EditedConversation, what: string, received: Promise<number>): Promise<number> {
    if (!(await conversation.flush(this.deps.flushDeadlineMs, received))) {
      throw new ChatError('STORAGE_ERR_UNAVAILABLE', `the journal is behind (storage slow or down); retry the ${what} later`);
    }
    // The store is changed only under a current claim: a runtime paused past its claim while another server took the
    // conversation over redacted records there, and the holder's cache went on replaying them as they were. A pause
    // between this check and the writes is closed by the store's fence (FencedChanges); waiting here still spares
    // work that would be refused, and keeps a change behind the sequencing work waiting for a renewal.
    await conversation.whenClaimCurrent();
    return received;
  }

  private oneAtATime<T>(conversationId: string, change: () => Promise<T>): Promise<T> {
    const before = this.tails.get(conversationId) ?? Promise.resolve();
    const run = before.then(change, change);
    const tail = run.catch(() => undefined);
    this.tails.set(conversationId, tail);
    void tail.then(() => {
      if (this.tails.get(conversationId) === tail) this.tails.delete(conversationId);
    });
    return run;
  }
}

/** Records a redaction names: those it redacted, those redacted already, and the records as stored now. */
interface NamedRecords extends RedactionResult {
  readonly records: readonly ChatMessage[];
}

function ascending(ids: readonly number[]): number[] {
  return [...ids].sort((a, b) => a - b);
}

/**
 * Whether the requester holds the owner's role now. Not the creator as such: a creator who left is no member, and
 * after a re-join a member (docs/security.md: the owner who leaves leaves the conversation without an owner).
 */
function isOwner(conversation: EditedConversation, requesterId: string): boolean {
  return conversation.participants.some((p) => p.participant_id === requesterId && p.role === 'owner');
}

function redaction(senderId: string): { senderId: string; content: string; metadata: Record<string, unknown> } {
  return { senderId, content: REDACTION_MARKER, metadata: { redacted: true } };
}

function notOwn(messageId: string, verb: 'edit' | 'delete'): ChatError {
  return new ChatError(
    'CHAT_ERR_FORBIDDEN',
    `no message of yours has message_id ${JSON.stringify(messageId)}: members may ${verb} only messages they sent`,
  );
}
