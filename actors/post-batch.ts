/**
 * Posts decided as a batch (the POSTS event): one machine step for every post that reached the actor
 * in the same event-loop turn. The xstate step is most of a post's cost (docs/benchmarks.md), so a
 * conversation under load pays it once per turn instead of once per message. Every post is decided
 * exactly as a lone POST would be, in arrival order: the test in test/actors/post-batch.test.ts runs
 * random batches both ways and compares records, outcomes, agent turns and the machine's state.
 */
import { ERROR_CODES } from './errors';
import type { ChatMessage } from './message-types';
import {
  appendBounded,
  isHumanText,
  planTurns,
  remember,
  sealRecord,
  type ConversationContext,
  type Outcome,
  type TurnRequest,
} from './conversation-context';
import type { PostFields } from './conversation-events';
import { hasAgents, postChanges } from './conversation-reducers';

/**
 * True when a post of this sender waits for the input window instead of being offered to the agents
 * at once: multi mode collects a burst of human messages (the window restarted by each one); single
 * mode waits only while the client says the human is still typing; without agents nothing waits.
 */
export function postWaitsForInputWindow(ctx: ConversationContext, senderId: string): boolean {
  const sender = ctx.participants.get(senderId);
  if (sender?.participant_type !== 'human') return false;
  if (ctx.mode === 'single' && !ctx.typing.has(senderId)) return false;
  return hasAgents(ctx);
}

/**
 * The last post of a batch that will be accepted (neither a duplicate, of the index or of an earlier
 * post in the batch, nor from a non-member), or undefined. Pure: the machine's guards use it to choose
 * the batch's target state before the reducer runs.
 */
export function lastAcceptedPost(ctx: ConversationContext, posts: readonly PostFields[]): PostFields | undefined {
  for (let i = posts.length - 1; i >= 0; i--) {
    const p = posts[i];
    if (ctx.dedup.get(p.sender_id, p.message_id) === undefined && ctx.participants.has(p.sender_id) && !repeatsEarlierPost(posts, i))
      return p;
  }
  return undefined;
}

/**
 * Whether an earlier post of the batch has the same sender and message id. A linear scan: a POSTS
 * batch holds at most LEASE_HEADROOM posts (machine-requests.ts), and this runs once per batch.
 */
function repeatsEarlierPost(posts: readonly PostFields[], index: number): boolean {
  const { sender_id, message_id } = posts[index];
  for (let j = 0; j < index; j++) if (posts[j].message_id === message_id && posts[j].sender_id === sender_id) return true;
  return false;
}

type Writable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * The outcome of a post that is not sequenced: a repeat (the dedup index learns each record as it is sequenced, so a
 * repeat within the batch is found too) or a sender who is no member; undefined for a post to sequence.
 */
function refusedPost(ctx: ConversationContext, p: PostFields): Outcome | undefined {
  const known = ctx.dedup.get(p.sender_id, p.message_id);
  if (known !== undefined) return { kind: 'duplicate', sequenceId: known };
  if (!ctx.participants.has(p.sender_id)) {
    return { kind: 'rejected', code: 'CHAT_ERR_NOT_PARTICIPANT', message: ERROR_CODES.CHAT_ERR_NOT_PARTICIPANT.message };
  }
  return undefined;
}

/**
 * Sequences a batch: per post, the outcome a lone POST would get; accepted posts are sequenced in
 * order, and a post that does not wait dispatches the burst it ends, as the POST transitions do.
 * Returns a partial update (one context copy for the whole batch).
 */
export function acceptPosts(ctx: ConversationContext, posts: readonly PostFields[], receivedAt: number): Partial<ConversationContext> {
  if (!hasAgents(ctx)) return acceptPostsWithoutAgents(ctx, posts, receivedAt);
  // The working copy the posts advance one by one (lastSequenceId, recent, humanWindow, burst).
  const work: Writable<ConversationContext> = { ...ctx };
  const emitted: ChatMessage[] = [];
  const turns: TurnRequest[] = [];
  const outcomes: Outcome[] = [];
  const timestamp = ctx.timestamps.format(receivedAt);
  for (const p of posts) {
    const refused = refusedPost(ctx, p);
    if (refused !== undefined) {
      outcomes.push(refused);
      continue;
    }
    const changes = postChanges(work, p, timestamp);
    work.lastSequenceId = changes.lastSequenceId;
    work.recent = changes.recent;
    work.humanWindow = changes.humanWindow;
    if (changes.burst !== undefined) work.burst = changes.burst;
    emitted.push(changes.emitted[0]);
    outcomes.push(changes.outcome);
    for (const t of changes.turns) turns.push(t);
    // A conversation without agents took acceptPostsWithoutAgents above: here someone may answer the burst.
    if (work.burst.length === 0) continue;
    if (postWaitsForInputWindow(ctx, p.sender_id)) continue;
    // Not waiting: the burst this post ends goes to the agents now.
    for (const t of planTurns(work, work.burst[work.burst.length - 1], work.burst, 0)) turns.push(t);
    work.burst = [];
  }
  return {
    lastSequenceId: work.lastSequenceId,
    recent: work.recent,
    humanWindow: work.humanWindow,
    burst: work.burst,
    emitted,
    turns,
    outcomes,
    outcome: { kind: 'none' },
  };
}

const NO_TURNS: readonly TurnRequest[] = Object.freeze([]);
const NONE: Outcome = Object.freeze({ kind: 'none' });

/**
 * acceptPosts for a conversation without agents (only humans: every sender is one), its common case and the
 * gateway's hot path, without the per-post intermediates of postChanges: no draft, no one-record lists, no
 * copy of the context, and the human window extended once per batch instead of copied per post. Nothing waits
 * and no turn is planned, so a burst left from before is cleared by the first accepted post, as acceptPosts
 * does. The same records and outcomes as acceptPosts (test/actors/post-batch.test.ts).
 */
function acceptPostsWithoutAgents(
  ctx: ConversationContext,
  posts: readonly PostFields[],
  receivedAt: number,
): Partial<ConversationContext> {
  const emitted: ChatMessage[] = [];
  const outcomes: Outcome[] = [];
  const timestamp = ctx.timestamps.format(receivedAt);
  let seq = ctx.lastSequenceId;
  let recent = ctx.recent;
  let humanTexts: ChatMessage[] | undefined;
  for (const p of posts) {
    const refused = refusedPost(ctx, p);
    if (refused !== undefined) {
      outcomes.push(refused);
      continue;
    }
    seq += 1;
    const record = sealRecord(ctx, seq, timestamp, 'human', p);
    remember(ctx.dedup, record);
    recent = recent.append(record);
    if (isHumanText(record)) (humanTexts ??= []).push(record);
    emitted.push(record);
    outcomes.push({ kind: 'accepted', sequenceId: seq });
  }
  return {
    lastSequenceId: seq,
    recent,
    humanWindow: humanTexts === undefined ? ctx.humanWindow : appendBounded(ctx.humanWindow, humanTexts, ctx.policy.humanContextSize),
    burst: emitted.length > 0 && ctx.burst.length > 0 ? [] : ctx.burst,
    emitted,
    turns: NO_TURNS,
    outcomes,
    outcome: NONE,
  };
}
