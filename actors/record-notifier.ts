import { isThenable } from './agent-jobs';
import type { Clock } from './clock';
import type { ChatMessage, Participant } from './message-types';
import type { RecordListener, StoredRecordEvent } from './runtime-types';
import { createLogThrottle, type LogThrottle } from '../observability/log-throttle';
import type { RuntimeLogger } from '../observability/logger';

/** Who of a conversation's members has a subscription open (presence.ts). */
export interface OpenSubscriptions {
  hasOpenSubscription(participantId: string): boolean;
}

export interface RecordNotifierOptions {
  readonly listener: RecordListener;
  readonly logger: RuntimeLogger;
  readonly clock: Clock;
}

/** One failure line per minute, the next one counting those left out (the window of agent call failures). */
const FAILURE_LOG_INTERVAL_MS = 60_000;

const NOBODY: readonly string[] = Object.freeze([]);

/** The human members with no open subscription, with their join records' ids (same order). */
interface Away {
  readonly ids: readonly string[];
  readonly joinedAt: readonly number[];
  readonly latestJoin: number;
}

/**
 * Hands the embedder's onRecord listener (CreateChatRuntimeOptions.onRecord) each record of every live conversation
 * once the journal stored it, in sequence order, with the human members nothing reaches live. One per runtime, made
 * only when there is a listener: without one the journal writer's only cost is its check for this (persistence-queue.ts).
 *
 * The listener is the embedder's code running inside the conversation's journal writer, so nothing it does may reach
 * the conversation: a throw or a rejected promise is caught and logged, never awaited, never retried. The log is
 * throttled (one line a minute, counting the rest): a listener that fails on every record would otherwise write a
 * line per record of every conversation.
 */
export class RecordNotifier {
  private readonly failures: LogThrottle;

  constructor(private readonly options: RecordNotifierOptions) {
    const { clock } = options;
    this.failures = createLogThrottle({ now: () => clock.now(), intervalMs: FAILURE_LOG_INTERVAL_MS });
  }

  /**
   * A batch of one conversation's records is in the journal (in sequence order, as the writer stored it); `members`
   * and `open` are the conversation's now.
   */
  stored(
    conversationId: string,
    records: readonly ChatMessage[],
    members: ReadonlyMap<string, Participant>,
    open: OpenSubscriptions,
  ): void {
    // Membership and presence cannot change between the records of one batch unless the listener itself changes them
    // (nothing else runs meanwhile), so the list is made once per batch and shared by every record whose sender is not
    // on it: the usual case, a sender writes while connected.
    const away = awayMembers(members, open);
    for (const record of records) {
      this.notify(Object.freeze({ conversationId, record, offline: offlineFor(away, record) }));
    }
  }

  private notify(event: StoredRecordEvent): void {
    try {
      const result = this.options.listener(event);
      if (isThenable(result)) result.then(undefined, (err: unknown) => this.failed(event, err));
    } catch (err) {
      this.failed(event, err);
    }
  }

  private failed(event: StoredRecordEvent, err: unknown): void {
    // One key: there is one listener per runtime, and what fails is its code, whatever the conversation.
    const suppressed = this.failures.admit('onRecord');
    if (suppressed === undefined) return;
    // At error: every failure is a notification the embedder meant to send and did not.
    this.options.logger.error(
      {
        err,
        conversation_id: event.conversationId,
        sequence_id: event.record.sequence_id,
        message_type: event.record.message_type,
        suppressed,
      },
      'onRecord listener failed; the record is stored and delivered as always',
    );
  }
}

function awayMembers(members: ReadonlyMap<string, Participant>, open: OpenSubscriptions): Away {
  const ids: string[] = [];
  const joinedAt: number[] = [];
  let latestJoin = 0;
  for (const member of members.values()) {
    if (member.participant_type !== 'human' || open.hasOpenSubscription(member.participant_id)) continue;
    ids.push(member.participant_id);
    joinedAt.push(member.joined_at_sequence);
    latestJoin = Math.max(latestJoin, member.joined_at_sequence);
  }
  return { ids: ids.length === 0 ? NOBODY : Object.freeze(ids), joinedAt, latestJoin };
}

/**
 * The away members who should hear of `record`: not its sender, nor one whose join came after it (the journal
 * behind a join: the record was delivered before that member was in the conversation).
 */
function offlineFor(away: Away, record: ChatMessage): readonly string[] {
  if (away.ids.length === 0) return NOBODY;
  if (record.sequence_id >= away.latestJoin && !away.ids.includes(record.sender_id)) return away.ids;
  return Object.freeze(away.ids.filter((id, i) => id !== record.sender_id && away.joinedAt[i] <= record.sequence_id));
}
