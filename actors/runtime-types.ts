import type { ChatMessage, ConversationMeta, ConversationMode, ConversationSettings, Participant, ParticipantType } from './message-types';
import type { ConversationPage, ConversationPageRequest } from './conversation-list';
import type { RecordIdentity } from './resume-divergence';

/** What runtime.edit did: the record as stored now, and whether this call changed it (false: it had that content). */
export interface EditOutcome {
  readonly message: ChatMessage;
  readonly changed: boolean;
  /**
   * When changed: the sequence id of the `edit` record this call sequenced (delivered to the subscriptions before
   * this resolves). Absent when nothing changed, or when the record was held while the conversation restarted.
   */
  readonly recordSequenceId?: number;
}

/**
 * What runtime.redact did. `redacted`: every record the request covers that is redacted now (the `edit` records of
 * its messages included), whether this call or an earlier one redacted it; `alreadyRedacted`: those of them that were
 * redacted before this call; `changed`: whether this call sequenced a `redaction` record (it redacted something, or
 * it announced a redaction stored earlier whose record was never sequenced). Ascending sequence ids.
 */
export interface RedactOutcome {
  readonly redacted: number[];
  readonly alreadyRedacted: number[];
  readonly changed: boolean;
  /** When changed: the sequence id of the `redaction` record this call sequenced (as EditOutcome.recordSequenceId). */
  readonly recordSequenceId?: number;
}

/** How runtime.redact chooses what a requester may redact. */
export interface RedactOptions {
  /**
   * Only the requester's own messages, even when it is the owner: what a client's `delete` asks. A message id names
   * one record per sender, so without it the owner's delete of its own `m1` also redacted every other member's `m1`;
   * an id the requester never sent is CHAT_ERR_FORBIDDEN, as for any other member.
   */
  readonly ownMessagesOnly?: boolean;
}

/** Who changes someone else's membership (docs/protocol.md: `added_by` / `removed_by` of join and leave records). */
export interface MembershipChangeOptions {
  /** join: the member adding the participant. */
  readonly addedBy?: string;
  /** leave: the owner removing the participant. */
  readonly removedBy?: string;
}

/** A participant to add when creating or joining a conversation. */
export interface ParticipantInput {
  readonly participant_id: string;
  readonly participant_type: ParticipantType;
  readonly display_name?: string;
  readonly role?: 'owner' | 'member';
  /** AI participants: which registered agent answers (defaults to participant_id); it must be registered. */
  readonly agent_id?: string;
  /**
   * AI participants only: true when no registered agent answers for it and the embedder posts as it itself
   * (runtime.post with its participant_id); then no agent is required. Not stored: only checked on create/join.
   */
  readonly external?: boolean;
}

export interface CreateConversationInput {
  /** Chosen by the caller or generated. */
  readonly conversation_id?: string;
  readonly title?: string;
  /** The creating human; becomes 'owner'. */
  readonly created_by: string;
  readonly participants?: readonly ParticipantInput[];
  readonly settings?: ConversationSettings;
  /** Join every configured auto_join agent (default true). */
  readonly autoJoinAgents?: boolean;
}

export interface PostInput {
  readonly sender_id: string;
  /** Sender-chosen id; a retry with the same (sender, message_id) is deduplicated. */
  readonly message_id: string;
  readonly content: string;
  readonly message_type?: string;
  readonly metadata?: Record<string, unknown>;
}

/** Result of a post: the sequence id (original one for a duplicate) and durability so far. */
export interface PostResult {
  readonly message_id: string;
  readonly sequence_id: number;
  readonly duplicate: boolean;
  /** True once the record is in the journal (read when asked: it turns true after the answer too). */
  readonly persisted: boolean;
  /**
   * Resolves when the record is durably in the journal; never rejects (stays pending if the runtime
   * closes first). Made on first access: a caller that never asks pays nothing for it.
   */
  readonly whenPersisted: Promise<void>;
}

/** Everything a connection (subscription) of one participant receives, in order. */
/**
 * Why the runtime ended a subscription: the server is shutting down, the participant was removed (left, or
 * the conversation passivated), the conversation was deleted, or another runtime sharing the store claimed it
 * (`moved`: reconnect, possibly to that server).
 */
export type ClosedReason = 'shutdown' | 'removed' | 'deleted' | 'moved';

export type ConversationOutput =
  | {
      readonly type: 'message';
      readonly message: ChatMessage;
      /**
       * True on the last record one actor step hands over (live delivery): nothing more comes from that step,
       * so a listener that holds writes for a turn may write now (the gateway does, for others' records).
       * Absent on replayed records.
       */
      readonly endsDelivery?: boolean;
    }
  | { readonly type: 'persisted'; readonly up_to_sequence_id: number }
  | { readonly type: 'typing'; readonly participant_id: string; readonly is_typing: boolean }
  /** A human member came online (first subscription) or went offline (chat.presence.offline_grace_s after its last closed). */
  | { readonly type: 'presence'; readonly participant_id: string; readonly online: boolean }
  /** A member's read position rose (at most once per member per chat.read_positions.announce_interval_ms; actors/read-positions.ts). */
  | { readonly type: 'read'; readonly participant_id: string; readonly sequence_id: number }
  /** The same raises, every member's since the last batch, at most once per interval for the conversation (actors/interval-batches.ts). */
  /**
   * The same presence changes, every member's since the last batch with its latest state, at most once per
   * chat.presence.batch_interval_ms for the conversation (actors/interval-batches.ts). A member's own id may be in it.
   */
  | { readonly type: 'presence_batch'; readonly changes: Readonly<Record<string, boolean>> }
  | { readonly type: 'read_batch'; readonly positions: Readonly<Record<string, number>> }
  | {
      readonly type: 'participants';
      readonly participants: readonly Participant[];
      readonly mode: ConversationMode;
      /** The human members online as of this list (presence outputs follow each later change). */
      readonly online: readonly string[];
    }
  | {
      readonly type: 'sync_complete';
      readonly from: number;
      readonly to: number;
      readonly recovered: boolean;
      /**
       * Only when the subscription asked for `history`: true when that bound left out ids after the resume point
       * (they were not replayed; read them backwards from `from`, readHistoryPageBefore), false when it left out none.
       * On the replay's last sync_complete only.
       */
      readonly has_earlier?: boolean;
    }
  /**
   * First output of a resume whose records diverged from the conversation's (SubscribeOptions.lastRecord): the
   * subscriber's records after `after` (up to its resume point, `last_sequence_id`) are not the conversation's, e.g.
   * ids handed out again after a crash during a storage outage. Drop them: the replay that follows starts after
   * `after` and brings the conversation's records in their place (docs/conversations.md, Resume after a crash).
   */
  | { readonly type: 'reset'; readonly after: number; readonly last_sequence_id: number }
  | { readonly type: 'failed'; readonly reason: string }
  | { readonly type: 'closed'; readonly reason: ClosedReason };

export interface SubscribeOptions {
  /**
   * Resume point: messages with sequence_id > this are replayed first (from the actor's cache or
   * storage), then live ones follow, with no gap and no duplicate at the seam. Omit for live only. A point
   * past the conversation's end resumes from the end (Subscription.lastSequenceId, below the point).
   */
  readonly afterSequenceId?: number;
  /**
   * The identity of the subscriber's record at afterSequenceId (the last it holds), checked against the
   * conversation's once, at subscribe. When the record there is another, a crash's `lost` placeholder or missing
   * (past the end), the subscriber's history diverged (ids handed out again after a crash during a storage outage):
   * the replay starts before the divergence instead, announced by a `reset` output (actors/resume-divergence.ts).
   * Without it the resume point is trusted, as before.
   */
  readonly lastRecord?: RecordIdentity;
  /**
   * Replay at most the last `history` records (a positive integer): the replay starts after
   * max(afterSequenceId ?? 0, last - history), where `last` is the conversation's last id at subscribe
   * (Subscription.lastSequenceId), and its last sync_complete says in `has_earlier` whether ids after the resume
   * point were left out. Without afterSequenceId, "the last `history` records, then live".
   */
  readonly history?: number;
  /**
   * Hand the replay out a page at a time instead of to the listener (Subscription.replay): nothing of the range is
   * read at subscribe, each page is read when asked for, and the listener gets only what comes after the range
   * (live records, after the conversation's last id at subscribe, and unsequenced outputs). For a subscriber that
   * writes the replay at its reader's pace (the gateway): it holds about a page, not the whole range.
   */
  readonly replayInPages?: boolean;
}

/** A resume's replay handed out a page at a time, at the pace of whoever asks (SubscribeOptions.replayInPages). */
export interface ReplayFeed {
  /**
   * The next page's outputs, in order: records, a dropped range's `sync_complete { recovered: false }` before the
   * records after it, and on the last page the replay's final `sync_complete`. Empty once done (or the
   * subscription closed by its subscriber or by the conversation's stop while still a member's; a leave, its own or
   * a removal, does not end it: the range predates the leave record, and was the member's to read). One call at a
   * time; never rejects (a failed read ends the replay as not recovered).
   */
  next(): Promise<ConversationOutput[]>;
  /** True once the final `sync_complete` was handed out (or the subscription closed): next() answers empty. */
  readonly done: boolean;
}

/** One connection's view of a conversation. close() is idempotent. */
export interface Subscription {
  readonly connectionId: string;
  readonly conversationId: string;
  readonly participantId: string;
  /** Snapshot at subscribe time. */
  readonly mode: ConversationMode;
  readonly lastSequenceId: number;
  readonly participants: readonly Participant[];
  /**
   * The human members online now (this one included), read when asked rather than a snapshot: every later change
   * also arrives as a `presence` output, and those applied in order over any earlier read end at the same state.
   */
  readonly online: readonly string[];
  /**
   * Every human member's read position (participant id -> the sequence id it has read up to), read when asked like
   * `online`; every later raise arrives as a `read` output.
   */
  readonly readPositions: Readonly<Record<string, number>>;
  /** The replay, with replayInPages and a resume point or history (the listener gets none of it); else undefined. */
  readonly replay?: ReplayFeed;
  close(): void;
}

/**
 * One record of a live conversation, handed to CreateChatRuntimeOptions.onRecord once the journal has stored it
 * (frozen, like the record). Small on purpose: the listener decides whom to tell; everything else it may want
 * (titles, display names) it reads through the runtime.
 */
export interface StoredRecordEvent {
  readonly conversationId: string;
  /**
   * The record as the journal holds it: every message_type the conversation writes (`text`, `nlweb_response`, `join`,
   * `leave`, `mode_change`, `agent_job_*`, `lost`, `redaction`, an agent's or your own types; docs/embedding.md).
   * A record the store refused as invalid arrives as the `lost` record stored in its place.
   */
  readonly record: ChatMessage;
  /**
   * The human members, as of the call, with no subscription open then (the sender never; a member that joined after
   * the record neither). Not `online` turned round: a member within chat.presence.offline_grace_s of closing its last
   * subscription still shows online to the others, but is offline here, since nothing reaches it live. Empty when
   * nobody is offline.
   */
  readonly offline: readonly string[];
}

/**
 * Told of every stored record of every live conversation (CreateChatRuntimeOptions.onRecord). Called synchronously
 * from the journal writer and not awaited: return at once, and start any I/O without waiting for it (a returned
 * promise's rejection is caught and logged, as a throw is).
 */
export type RecordListener = (event: StoredRecordEvent) => void | PromiseLike<unknown>;

export interface ConversationSummary extends ConversationMeta {
  readonly participants: readonly Participant[];
  readonly mode: ConversationMode;
  readonly last_sequence_id: number;
  /** The human members online: a subscription open, or the last one closed less than chat.presence.offline_grace_s ago. */
  readonly online: readonly string[];
}

/** One member's reading of a conversation (ChatRuntime.readState). */
export interface ReadState {
  /** The sequence id it has read up to (at least its join record's). */
  readonly readUpTo: number;
  /**
   * Records after it that someone else sent and a person reads as a message (`text`, `nlweb_response`;
   * storage-providers/read-positions.ts), counted up to MAX_UNREAD_COUNT (1000: at least that many).
   */
  readonly unreadCount: number;
}

export interface ConversationHealth {
  readonly humans: number;
  readonly ai_agents: number;
  readonly connections: number;
  readonly queue_depth: number;
  readonly status: 'active' | 'failed';
}

export interface RuntimeHealth {
  readonly status: 'healthy' | 'degraded' | 'unhealthy';
  readonly reasons: readonly string[];
  readonly connections: number;
  /** Conversations with a live actor. */
  readonly conversations: number;
  readonly participants_by_conversation: Readonly<Record<string, { humans: number; ai_agents: number }>>;
  readonly queue_depths: Readonly<Record<string, number>>;
  readonly storage: 'connected' | 'failing' | 'disconnected';
  /** Records delivered but not yet persisted, across live conversations. */
  readonly persistence_lag: number;
  /**
   * How long (ms, at the time of the read) the oldest of those has waited for the journal, across live conversations;
   * 0 when all are stored. Unlike the count it grows while a stalled store holds a write (until the store's own
   * timeout, 15 s for PostgreSQL and Redis, turns it into a failure and health into `degraded`).
   */
  readonly persistence_lag_ms: number;
  readonly failed_conversations: readonly string[];
  readonly shutting_down: boolean;
}

/** A page of history (readHistoryPage). */
export interface HistoryPage {
  /**
   * Records after the page's start, in order, without holes between them. The first is above
   * droppedUpTo + 1 only over a hole in the journal (ids the store neither holds nor says it dropped:
   * damage), which the reader sees as a gap in the ids.
   */
  readonly messages: ChatMessage[];
  /**
   * Ids from the page's start + 1 up to this one are no longer held because the store dropped them on
   * purpose (a bounded memory store, ChatStore.droppedUpTo). Equal to the page's start when nothing was dropped.
   */
  readonly droppedUpTo: number;
  /**
   * Where the next page starts (`after` of the next read): every id up to it is accounted for, as a record,
   * dropped, or a hole the page passed over. The last record's id; past it, to the conversation's last id,
   * when the page ends in a hole at the end of the journal (ids sequenced, none held after them: paging must
   * stop there, and the reader sees those ids missing). Equal to the page's start when nothing could be read
   * (storage unavailable): ask again later.
   */
  readonly nextAfter: number;
}

/** A page of history read backwards (readHistoryPageBefore). */
export interface HistoryPageBefore {
  /** Records with ids below the page's `before`, oldest first (at most `limit`). */
  readonly messages: ChatMessage[];
  /** The page's first id (`before` when the page is empty): `before` of the next, older page. */
  readonly nextBefore: number;
  /** Older ids exist (and are not known to be dropped): page on with nextBefore. */
  readonly hasMore: boolean;
  /** Ids of the page's range the store no longer holds (a bounded journal dropped them); then nothing older is held. */
  readonly dropped?: { readonly from: number; readonly to: number };
  readonly lastSequenceId: number;
}

/** One agent the runtime answers with, as clients may see it (GET /chat/agents): never its endpoint's url or site. */
export interface AgentListing {
  /** What an AI participant's `agent_id` (or, by default, its `participant_id`) names. */
  readonly agent_id: string;
  /** The agent's configured name: the name a member who is not the owner must add it under (or leave out). */
  readonly display_name: string;
  /** True when new conversations get it unless created with `auto_join_agents: false` (`chat.nlweb.endpoints[].auto_join`). */
  readonly auto_join: boolean;
}

/**
 * The embedding API: everything a Node service (or our gateway) needs, without any transport.
 * Every method rejects with a ChatError whose `code` says what went wrong.
 */
export interface ChatRuntime {
  createConversation(input: CreateConversationInput): Promise<ConversationSummary>;
  getConversation(conversationId: string): Promise<ConversationSummary>;
  /**
   * The user's current conversations, newest first; with `participantType`, only those where the id is a participant
   * of that type (the gateway asks for 'human': a user named like an agent must not list the agent's conversations).
   */
  listConversations(userId: string, options?: { readonly participantType?: ParticipantType }): Promise<ConversationMeta[]>;
  /**
   * One page of the user's current conversations by last activity, most recent first (actors/conversation-list.ts):
   * live conversations rank by their latest delivered record, others by the journal's; `next` continues after it.
   */
  listConversationPage(userId: string, request: ConversationPageRequest): Promise<ConversationPage>;
  /**
   * Adds the participant (joining twice answers the member as it is). With `addedBy` a member adds someone else:
   * refused with CHAT_ERR_NOT_PARTICIPANT unless `addedBy` is a member when the join is sequenced; the join record's
   * metadata says `added_by`.
   */
  join(conversationId: string, participant: ParticipantInput, options?: MembershipChangeOptions): Promise<Participant>;
  /**
   * Removes the participant. With `removedBy` (other than the participant) the owner removes a member: refused with
   * CHAT_ERR_NOT_PARTICIPANT (remover no member), CHAT_ERR_FORBIDDEN (remover not the owner) or
   * CHAT_ERR_PARTICIPANT_NOT_FOUND (no such member); the leave record's metadata says `removed_by`.
   */
  leave(conversationId: string, participantId: string, options?: MembershipChangeOptions): Promise<void>;
  /** Sequences and delivers a message; CHAT_ERR_QUEUE_FULL (with retryAfterMs) when the mailbox is full. */
  post(conversationId: string, input: PostInput): Promise<PostResult>;
  /** The participant must be a member; listener receives outputs in order, synchronously. */
  subscribe(
    conversationId: string,
    participantId: string,
    listener: (output: ConversationOutput) => void,
    options?: SubscribeOptions,
  ): Promise<Subscription>;
  setTyping(conversationId: string, participantId: string, isTyping: boolean): void;
  /**
   * Whether the live conversation holds the member as typing (a start not ended yet, or the others last told so);
   * false when the conversation is not live. For a relay that must not forget a start whose stop has not come.
   */
  isTyping(conversationId: string, participantId: string): boolean;
  /**
   * The member has read everything up to `sequenceId` (one position per member, whatever its connections): raised,
   * never lowered; a value past the last record is taken as the last record. Resolves to the position after.
   * CHAT_ERR_NOT_PARTICIPANT for a non-member. Not a record: takes no sequence id (docs/protocol.md, Read positions).
   */
  markRead(conversationId: string, participantId: string, sequenceId: number): Promise<number>;
  /** The member's read position and unread count (CHAT_ERR_NOT_PARTICIPANT for a non-member). */
  readState(conversationId: string, participantId: string): Promise<ReadState>;
  /** History page from the cache or storage (members only when requesterId is given). */
  readMessages(conversationId: string, afterSequenceId: number, limit: number, requesterId?: string): Promise<ChatMessage[]>;
  /** The same page, also naming the ids before it that a bounded journal dropped (a hole is not named). */
  readHistoryPage(conversationId: string, afterSequenceId: number, limit: number, requesterId?: string): Promise<HistoryPage>;
  /**
   * The `limit` records just before `beforeSequenceId`, oldest first (a value past the end: the latest page), for a
   * view that opens at the latest messages and scrolls back. Members only when requesterId is given.
   */
  readHistoryPageBefore(conversationId: string, beforeSequenceId: number, limit: number, requesterId?: string): Promise<HistoryPageBefore>;
  /**
   * Replace content with a marker; answers the redacted sequence ids (with the `edit` records that carried earlier
   * texts of those messages) and which of them were redacted already (RedactOutcome): redacting again changes nothing
   * and sequences no second `redaction` record. When requesterId is given: the owner redacts anything, another member
   * only messages it sent itself, named by message id (CHAT_ERR_FORBIDDEN otherwise; STORAGE_ERR_UNSUPPORTED on a
   * store without `supports.replaceContent`); `options.ownMessagesOnly` holds the owner to that too. The owner's
   * message ids name the records of every sender that used them. docs/conversations.md, Edits and deletes.
   */
  redact(
    conversationId: string,
    target: { messageIds: readonly string[] } | { senderId: string },
    requesterId?: string,
    options?: RedactOptions,
  ): Promise<RedactOutcome>;
  /**
   * The member replaces the content of its own `text` message `messageId`; an `edit` record tells every member. The
   * same content again changes nothing (`changed: false`). CHAT_ERR_FORBIDDEN for anyone else's message, a deleted
   * one or another type, CHAT_ERR_NOT_PARTICIPANT for a non-member, STORAGE_ERR_UNSUPPORTED on a store without
   * `supports.replaceContent`. Content is taken as given: the gateway checks it as it checks a post.
   */
  edit(conversationId: string, requesterId: string, messageId: string, content: string): Promise<EditOutcome>;
  /** The agents this runtime answers with (configured endpoints and the embedder's own), sorted by id. */
  listAgents(): AgentListing[];
  health(): RuntimeHealth;
  /** Pings the storage now (the runtime also does so every few seconds); updates health().storage. */
  checkStorage(): Promise<boolean>;
  /** Stop accepting work, cancel agent jobs, flush persistence, stop actors. */
  close(options?: { deadlineMs?: number }): Promise<{ flushed: boolean; unflushed: number }>;
}
