import type { Harness } from './harness';
import type { ChangeLedger } from './session-changes';
import type { PostLedger } from './session-ledger';
import type { Answer } from './session-socket';
import { raced, type Conversation, type Membership, type Tab } from './session-tabs';

/** What the change and read commands need of the session model. */
export interface ChangeContext {
  readonly h: Harness;
  readonly posts: PostLedger;
  readonly changes: ChangeLedger;
  problem(why: string): void;
  count(what: string): void;
  /** The conversation's owner as the server has it, if any. */
  ownerOf(conv: Conversation): Promise<string | undefined>;
}

/** How the server answered an edit or delete: taken (changed or not, with its record's id), refused, or not at all. */
type Outcome =
  | { readonly kind: 'taken'; readonly changed: boolean; readonly recordSequenceId: number | undefined }
  | { readonly kind: 'refused'; readonly code: string }
  | { readonly kind: 'lost' };

/** What the session knew when a change was sent, to judge its answer. */
interface Sent {
  readonly tab: Tab;
  readonly verb: 'edit' | 'delete';
  readonly messageId: string;
  readonly content?: string;
  /** The message's sequence id, if its post was accepted before the change was sent. */
  readonly target: number | undefined;
  /** A taken delete or redaction covered it before the change was sent. */
  readonly redacted: boolean;
  /** Its post had been sent (over any channel) before the change was. */
  readonly postedBefore: boolean;
  /** The socket the change went over (none over HTTP). */
  readonly socket?: object;
}

/**
 * The session's edits, deletes, owner redactions and read marks (docs/protocol.md, Edits and deletes; Read
 * positions), over the tab's socket or HTTP, each judged by what the session knew when it was sent.
 */
export class ChangeCommands {
  constructor(private readonly ctx: ChangeContext) {}

  async edit(tab: Tab, messageId: string, content: string, via: 'ws' | 'http'): Promise<void> {
    const sent = this.sent(tab, 'edit', messageId, via, content);
    this.ctx.changes.editSent(tab.conv.id, tab.userId, messageId, content);
    if (via === 'ws') return this.overSocket(sent, { type: 'edit', message_id: messageId, content });
    const before = { ...this.membership(tab) };
    const res = await this.ctx.h.request('POST', `/chat/conversations/${tab.conv.id}/edit`, tab.userId, { message_id: messageId, content });
    if (res.status === 200 && res.body.message?.content !== content)
      this.ctx.problem(`${tab.label}: HTTP edit of ${messageId} answered with ${JSON.stringify(res.body.message)}`);
    this.judge(sent, before, res.status === 200 ? { kind: 'taken', changed: res.body.changed, recordSequenceId: undefined } : refusal(res));
  }

  async delete(tab: Tab, messageId: string, via: 'ws' | 'http'): Promise<void> {
    const sent = this.sent(tab, 'delete', messageId, via);
    if (via === 'ws') return this.overSocket(sent, { type: 'delete', message_id: messageId });
    const before = { ...this.membership(tab) };
    // The owner's redaction by message_ids covers every sender's: that is the owner's to ask for (redact()).
    if ((await this.ctx.ownerOf(tab.conv)) === tab.userId) return this.redact(tab, messageId, false);
    const res = await this.ctx.h.request('POST', `/chat/conversations/${tab.conv.id}/redact`, tab.userId, { message_ids: [messageId] });
    if (res.status !== 200) return this.judge(sent, before, refusal(res));
    const ids = res.body.redacted_sequence_ids as number[];
    if (sent.target !== undefined && !ids.includes(sent.target))
      this.ctx.problem(`${tab.label}: HTTP delete of ${messageId} (${sent.target}) answered ${JSON.stringify(res.body)}`);
    this.judge(sent, before, { kind: 'taken', changed: res.body.changed, recordSequenceId: undefined });
  }

  /** The owner redacts every sender's `messageId`, or (bySender) everything the tab's user sent. */
  async redact(tab: Tab, messageId: string, bySender: boolean): Promise<void> {
    const conv = tab.conv;
    const owner = await this.ctx.ownerOf(conv);
    if (owner === undefined) return this.redactAsCreator(tab, messageId, bySender);
    const covered = conv.tabs.flatMap(([t]) =>
      bySender && t.userId !== tab.userId
        ? []
        : this.ctx.posts
            .postsOf(conv.id)
            .filter((p) => p.userId === t.userId && (bySender || p.messageId === messageId))
            .flatMap((p) => {
              const seq = this.ctx.posts.sequenceOf(conv.id, p.userId, p.messageId);
              return seq === undefined ? [] : [{ ...p, seq }];
            }),
    );
    for (const p of covered) this.ctx.changes.deleteSent(conv.id, p.messageId);
    if (!bySender) this.ctx.changes.deleteSent(conv.id, messageId);
    const mark = this.membershipMark(conv);
    this.ctx.count(bySender ? 'owner redactions (sender)' : 'owner redactions');
    const body = bySender ? { sender_id: tab.userId } : { message_ids: [messageId] };
    const res = await this.ctx.h.request('POST', `/chat/conversations/${conv.id}/redact`, owner, body);
    if (res.status !== 200) {
      // The role moves only with membership: a refusal is right only if that changed meanwhile.
      if (res.status !== 403 || !this.racedSince(conv, mark))
        this.ctx.problem(`c${conv.index}: owner ${owner} redaction answered ${res.status} ${JSON.stringify(res.body)}`);
      return;
    }
    const ids = res.body.redacted_sequence_ids as number[];
    for (const p of covered) {
      if (!ids.includes(p.seq))
        this.ctx.problem(
          `c${conv.index}: owner redaction ${JSON.stringify(body)} left out ${p.userId}/${p.messageId} (${p.seq}): ${JSON.stringify(res.body)}`,
        );
      this.ctx.changes.redactedNow(conv.id, p.userId, p.messageId);
    }
  }

  /** Nobody holds the owner's role (the creator left, maybe joined again as a member): the creator's redaction is refused. */
  private async redactAsCreator(tab: Tab, messageId: string, bySender: boolean): Promise<void> {
    const conv = tab.conv;
    const creator = conv.tabs[0][0].userId;
    const mark = this.membershipMark(conv);
    this.ctx.count('redactions by the creator without the role');
    const body = bySender ? { sender_id: tab.userId } : { message_ids: [messageId] };
    if (!bySender) this.ctx.changes.deleteSent(conv.id, messageId);
    const res = await this.ctx.h.request('POST', `/chat/conversations/${conv.id}/redact`, creator, body);
    const raced = this.racedSince(conv, mark);
    if (bySender) {
      // A whole sender is the owner's, and nobody is.
      if (res.status !== 403 && !raced)
        this.ctx.problem(
          `c${conv.index}: creator ${creator} without the owner's role redacted ${JSON.stringify(body)}: ${res.status} ${JSON.stringify(res.body)}`,
        );
      return;
    }
    // A member's message_ids are a delete of its own messages with those ids: nobody else's may be in the answer.
    if (res.status !== 200) return;
    const others = conv.tabs
      .map(([t]) => t.userId)
      .filter((u) => u !== creator)
      .flatMap((u) => this.ctx.posts.sequenceOf(conv.id, u, messageId) ?? []);
    const taken = (res.body.redacted_sequence_ids as number[]).filter((seq) => others.includes(seq));
    if (taken.length > 0 && !raced)
      this.ctx.problem(
        `c${conv.index}: creator ${creator} without the owner's role redacted others' ${messageId}: ${JSON.stringify(res.body)}`,
      );
  }

  /** Marks read up to `seq` (never past what the tab holds unless `pastEnd`: then clamped by the server). */
  async read(tab: Tab, seq: number, via: 'ws' | 'http'): Promise<void> {
    const membership = this.membership(tab);
    const before = { ...membership };
    const held = Math.min(seq, tab.lastSeen ?? 0);
    if (via === 'ws') {
      if (!tab.socket?.isOpen) return;
      tab.readSentAt = before;
      tab.socket.send({ type: 'read', sequence_id: seq });
      this.ctx.count('read frames');
    } else {
      const res = await this.ctx.h.request('POST', `/chat/conversations/${tab.conv.id}/read`, tab.userId, { sequence_id: seq });
      this.ctx.count(`HTTP reads ${res.status}`);
      const stable = before.member && !raced(before, membership);
      if (res.status === 200 && stable && res.body.read_up_to < held)
        this.ctx.problem(`${tab.label}: read up to ${seq} answered read_up_to ${res.body.read_up_to}`);
      if (res.status !== 200 && (res.body.error !== 'CHAT_ERR_NOT_PARTICIPANT' || stable))
        this.ctx.problem(`${tab.label}: HTTP read ${seq} answered ${res.status} ${JSON.stringify(res.body)}`);
    }
    if (!before.member || raced(before, membership)) return;
    if (via === 'http') membership.marked = Math.max(membership.marked, held);
    else if (tab.socket) membership.framed.push({ socket: tab.socket, upTo: held });
  }

  /** An error answering one of the tab's `read` frames: only a leave racing it explains one. */
  readRefused(tab: Tab, code: string): void {
    const before = tab.readSentAt;
    const membership = this.membership(tab);
    if (code === 'CHAT_ERR_NOT_PARTICIPANT' && (before === undefined || !before.member || raced(before, membership))) return;
    this.ctx.problem(`${tab.label}: read frame refused with ${code}`);
  }

  private async overSocket(sent: Sent, frame: unknown): Promise<void> {
    const socket = sent.tab.socket;
    if (!socket?.isOpen) return;
    const before = { ...this.membership(sent.tab) };
    const answers = (a: Answer): boolean => (a.kind === 'change' || a.kind === 'error') && a.replyTo === sent.verb;
    const answer = await socket.request(frame, sent.messageId, answers);
    // Without a restart in between (none here), a change_ack that changed something names its record.
    if (answer.kind === 'change' && answer.changed && answer.sequenceId === undefined)
      this.ctx.problem(`${socket.label}: ${sent.verb} of ${sent.messageId} changed without naming its record`);
    this.judge(
      sent,
      before,
      answer.kind === 'change'
        ? { kind: 'taken', changed: answer.changed, recordSequenceId: answer.sequenceId }
        : answer.kind === 'error'
          ? { kind: 'refused', code: answer.code }
          : { kind: 'lost' },
    );
  }

  private judge(sent: Sent, before: Membership, outcome: Outcome): void {
    const { tab, verb, messageId } = sent;
    const what = `${tab.label}: ${verb} of ${messageId}${sent.target === undefined ? '' : ` (${sent.target})`}`;
    this.ctx.count(
      outcome.kind === 'taken'
        ? `${verb}s ${outcome.changed ? 'changed' : 'unchanged'}`
        : outcome.kind === 'lost'
          ? `${verb}s cut off`
          : `${verb}s refused ${outcome.code}`,
    );
    if (outcome.kind === 'lost') return;
    const early = postedOnlyAfterOn(sent, this.ctx.posts);
    if (early) this.ctx.count(`${verb}s sent before their post on one socket`);
    if (outcome.kind === 'refused') {
      const membership = this.membership(tab);
      // Not a member: a frame is refused as such, an HTTP redaction as forbidden (docs/security.md, Redaction).
      const stranger = !before.member || raced(before, membership);
      if (stranger && (outcome.code === 'CHAT_ERR_NOT_PARTICIPANT' || outcome.code === 'CHAT_ERR_FORBIDDEN')) return;
      // Refused as not the sender's: right when the session did not know the post as accepted, or (an edit) it may be deleted.
      const mayBeGone = sent.redacted || this.ctx.changes.mayBeRedacted(tab.conv.id, messageId);
      if (outcome.code === 'CHAT_ERR_FORBIDDEN' && (sent.target === undefined || (verb === 'edit' && mayBeGone))) return;
      this.ctx.problem(`${what} refused with ${outcome.code}`);
      return;
    }
    if (verb === 'edit' && sent.redacted) this.ctx.problem(`${what} taken, but it was deleted before`);
    if (early) this.ctx.problem(`${what} taken, but its message was posted only after it, on its socket`);
    this.ctx.changes.took(tab.conv.id, {
      kind: verb,
      userId: tab.userId,
      messageId,
      ...(sent.content === undefined ? {} : { content: sent.content }),
      recordSequenceId: outcome.changed ? outcome.recordSequenceId : undefined,
      target: sent.target,
    });
  }

  private sent(tab: Tab, verb: 'edit' | 'delete', messageId: string, via: 'ws' | 'http', content?: string): Sent {
    if (verb === 'delete') this.ctx.changes.deleteSent(tab.conv.id, messageId);
    return {
      tab,
      verb,
      messageId,
      ...(content === undefined ? {} : { content }),
      target: this.ctx.posts.sequenceOf(tab.conv.id, tab.userId, messageId),
      redacted: this.ctx.changes.isRedacted(tab.conv.id, tab.userId, messageId),
      postedBefore: this.ctx.posts.sentVia(tab.conv.id, tab.userId, messageId).size > 0,
      ...(via === 'ws' && tab.socket ? { socket: tab.socket } : {}),
    };
  }

  private membership(tab: Tab): Membership {
    return tab.conv.members.get(tab.userId)!;
  }

  /**
   * Every membership change of the conversation started or ended so far, as one number (each bumps its member's epoch
   * at both ends); undefined while one is under way, as raced() treats a change in progress. Summing `changing` in, as
   * this did, missed a change that was under way and then ended: +1 epoch and -1 changing leave the sum as it was, so
   * an owner who left meanwhile had its redaction's 403 counted as a violation (seed 223734993, at e1658a0).
   */
  private membershipMark(conv: Conversation): number | undefined {
    const members = [...conv.members.values()];
    return members.some((m) => m.changing > 0) ? undefined : members.reduce((n, m) => n + m.epoch, 0);
  }

  /** Whether a membership change of the conversation was under way at `mark`, or started or ended since. */
  private racedSince(conv: Conversation, mark: number | undefined): boolean {
    return mark === undefined || mark !== this.membershipMark(conv);
  }
}

/**
 * A socket's frames take effect in the order sent (docs/protocol.md, Edits and deletes): a change over the tab's socket
 * sent before its message was posted anywhere, then posted on that same socket only, names a message that did not
 * exist when the change was received, and must be refused (CHAT_ERR_FORBIDDEN). Taken, it changed a post sent after
 * it: before 2026-12-08 a `delete` then `message` of one id in one chunk deleted the post, and this model let it pass.
 * A post sent over another socket or HTTP may overtake the change, so those prove nothing.
 */
function postedOnlyAfterOn(sent: Sent, posts: PostLedger): boolean {
  if (sent.postedBefore || sent.socket === undefined) return false;
  const via = posts.sentVia(sent.tab.conv.id, sent.tab.userId, sent.messageId);
  return via.size === 1 && via.has(sent.socket);
}

function refusal(res: { status: number; body: { error?: string } }): Outcome {
  return { kind: 'refused', code: res.body.error ?? String(res.status) };
}
