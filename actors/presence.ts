import { unrefTimer, type Clock } from './clock';
import { IntervalBatches } from './interval-batches';

export interface PresenceDeps {
  readonly clock: Clock;
  /** How long a member whose last subscription closed still counts as online (chat.presence.offline_grace_s). */
  readonly graceMs: number;
  /** Called on every change, never for a member that left (the leave itself says so). */
  readonly announce: (participantId: string, online: boolean) => void;
  /** At most one batch per this many ms (chat.presence.batch_interval_ms). */
  readonly batchIntervalMs: number;
  /** The same changes, every member's since the last batch with its latest state, for sockets that asked for batches. */
  readonly announceBatch: (changes: Readonly<Record<string, boolean>>) => void;
}

/** An online member: its open subscriptions, and its grace timer once none is left. */
interface OnlineMember {
  open: number;
  grace: unknown;
}

const NOBODY: readonly string[] = Object.freeze([]);

/**
 * Who of a conversation's human members is connected: online from the first open subscription, offline
 * `graceMs` after the last one closed, unless one opens again meanwhile (a page reload, a reconnect storm:
 * no flap). Ephemeral like typing: kept in the conversation's shell, never sequenced or journaled, and
 * changed only by subscribing and unsubscribing, so a chat message costs nothing here.
 */
export class Presence {
  /**
   * The online members, in the order they came online. Made on the first subscription: three empty collections
   * made every live conversation ~0.5 KB larger, and most live conversations in memory have nobody connected.
   */
  private members: Map<string, OnlineMember> | undefined;
  /** One frozen list per presence state, shared by everyone who reads it until the next change. */
  private list: readonly string[] | undefined;
  private closed = false;
  /** Made on the first change: most live conversations in memory have nobody connected. */
  private batches: IntervalBatches<boolean> | undefined;

  constructor(private readonly deps: PresenceDeps) {}

  get online(): readonly string[] {
    this.list ??= this.members?.size ? Object.freeze([...this.members.keys()]) : NOBODY;
    return this.list;
  }

  /**
   * Whether the member has a subscription open now. Unlike `online`, false within the grace after its last one
   * closed: nothing reaches it live then (who may need telling of a record, record-notifier.ts).
   */
  hasOpenSubscription(participantId: string): boolean {
    return (this.members?.get(participantId)?.open ?? 0) > 0;
  }

  subscribed(participantId: string): void {
    if (this.closed) return;
    const member = this.members?.get(participantId);
    if (member) {
      member.open++;
      // Back within the grace: nobody was told it left, so nobody is told it is back.
      this.cancelGrace(member);
      return;
    }
    (this.members ??= new Map()).set(participantId, { open: 1, grace: undefined });
    this.changed(participantId, true);
  }

  unsubscribed(participantId: string): void {
    const member = this.members?.get(participantId);
    // Not online: an AI member's subscription, or a member forgotten by its leave.
    if (member === undefined || this.closed || --member.open > 0) return;
    if (this.deps.graceMs === 0) return this.wentOffline(participantId);
    // A background timer: an announcement nobody may be left to hear must not keep the process alive.
    member.grace = unrefTimer(this.deps.clock.setTimeout(() => this.wentOffline(participantId), this.deps.graceMs));
  }

  /** The member left the conversation: gone from presence at once, without an announcement. */
  forget(participantId: string): void {
    const member = this.members?.get(participantId);
    if (member === undefined) return;
    this.cancelGrace(member);
    this.members!.delete(participantId);
    this.list = undefined;
    // A batch must not show a member online after its leave record told the room it left.
    this.batches?.forget(participantId);
  }

  /** The conversation stops: no timer stays behind and nothing more is announced. */
  close(): void {
    this.closed = true;
    for (const member of this.members?.values() ?? []) this.cancelGrace(member);
    this.batches?.close();
  }

  private wentOffline(participantId: string): void {
    this.members!.delete(participantId);
    this.changed(participantId, false);
  }

  private cancelGrace(member: OnlineMember): void {
    if (member.grace === undefined) return;
    this.deps.clock.clearTimeout(member.grace);
    member.grace = undefined;
  }

  private changed(participantId: string, online: boolean): void {
    this.list = undefined;
    this.deps.announce(participantId, online);
    const { clock, batchIntervalMs: intervalMs, announceBatch: announce } = this.deps;
    (this.batches ??= new IntervalBatches<boolean>({ clock, intervalMs, announce })).changed(participantId, online);
  }
}
