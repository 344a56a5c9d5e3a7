import type { MessageAckFrame } from '../../gateway/protocol/server-frames';
import { track, type Harness } from './harness';
import type { InvalidVariant, MembershipVia, ResumeFrom, SessionCommand, SessionSetup, TabRef } from './session-commands';
import { readJournal, type JournalView } from './session-journal';
import { PostLedger } from './session-ledger';
import { sendInvalidFrame } from './session-invalid-frames';
import { SessionSocket, type Answer } from './session-socket';
import { checkSocketStream } from './session-socket-check';

/** Bound on any single wait: a lost frame must fail the run with a message, not hang it. */
const WAIT_MS = 10_000;

interface Membership {
  member: boolean;
  /** Bumped when a leave/re-join starts and when it ends: an answer racing one may say either. */
  epoch: number;
  /** Leaves/re-joins of this member in progress. */
  changing: number;
}

interface Tab {
  readonly conv: Conversation;
  readonly userId: string;
  readonly label: string;
  socket: SessionSocket | undefined;
  /** Highest sequence id the tab holds (what it resumes from); undefined before its first connection. */
  lastSeen: number | undefined;
  /** Connects, drops and queued sends run one after another per tab. */
  chain: Promise<void>;
  queued: number;
}

interface Conversation {
  readonly index: number;
  readonly id: string;
  readonly members: Map<string, Membership>;
  readonly tabs: Tab[][];
}

/**
 * The session model: humans with one or two tabs in one or two conversations, driven by random
 * commands over real sockets. It knows what each command must lead to (membership, close codes,
 * answers) and collects every violation in `problems`; quiesce() then finishes the session like a
 * demanding client would (re-join, re-send every message id until accepted, catch up) and checks the
 * streams, the acks and the journal against each other.
 */
export class SessionModel {
  readonly problems: string[] = [];
  /** What the run exercised (printed by the test: a property that never resumes proves nothing). */
  readonly stats = new Map<string, number>();
  private readonly conversations: Conversation[] = [];
  private readonly sockets: SessionSocket[] = [];
  private readonly inflight = new Set<Promise<void>>();
  private readonly ledger = new PostLedger((why) => this.problems.push(why));
  private readonly humans: string[];
  private socketCount = 0;
  private invalidCount = 0;

  constructor(
    private readonly h: Harness,
    private readonly setup: SessionSetup,
  ) {
    this.humans = Array.from({ length: setup.humans }, (_, i) => `u${i}`);
  }

  /** Creates the conversations (everybody a member) and opens every tab. */
  async start(): Promise<void> {
    for (let index = 0; index < this.setup.conversations; index++) {
      const id = await this.h.createConversation(this.humans[0], this.humans.slice(1));
      const members = new Map(this.humans.map((u) => [u, { member: true, epoch: 0, changing: 0 }]));
      const conv: Conversation = { index, id, members, tabs: [] };
      conv.tabs.push(
        ...this.humans.map((userId) =>
          Array.from({ length: this.setup.tabsPerUser }, (_, t) => ({
            conv,
            userId,
            label: `c${index}/${userId}/t${t}`,
            socket: undefined,
            lastSeen: undefined,
            chain: Promise.resolve(),
            queued: 0,
          })),
        ),
      );
      this.conversations.push(conv);
    }
    for (const tab of this.allTabs()) await this.connect(tab, 'none', 0);
  }

  /** Runs one command; `wait: false` ones stay in flight while the next commands run. */
  async run(command: SessionCommand): Promise<void> {
    if (command.kind === 'settle') return this.settle();
    if (command.kind === 'storm') return this.track(this.storm(command.conv, command.from), command.wait, 'storm');
    if (command.kind === 'membership') return this.within(this.toggleMembership(this.tabAt(command.at), command.via), 'membership');
    return this.track(this.start1(command), 'wait' in command && command.wait, command.kind);
  }

  /** Awaits `work` or leaves it in flight; a throw is a violation. */
  private track(work: Promise<void>, wait: boolean, what: string): Promise<void> | undefined {
    const guarded = work.catch((err: unknown) => {
      this.problems.push(`${what} threw: ${err instanceof Error ? err.stack : String(err)}`);
    });
    if (wait) return this.within(guarded, what);
    this.inflight.add(guarded);
    void guarded.finally(() => this.inflight.delete(guarded));
    return undefined;
  }

  private start1(command: Exclude<SessionCommand, { kind: 'settle' | 'membership' | 'storm' }>): Promise<void> {
    const tab = this.tabAt(command.at);
    switch (command.kind) {
      case 'post':
        return command.via === 'http' ? this.postHttp(tab, command.id) : this.whenReady(tab, () => this.postWs(tab, command.id));
      case 'drop':
        return this.enqueue(tab, () => this.drop(tab, command.abrupt));
      case 'connect':
        return this.enqueue(tab, () => this.connect(tab, command.from, command.back, command.join));
      case 'sync':
        return this.whenReady(tab, () => this.sync(tab, command.stale || command.twice ? command.back + 1 : 0, command.twice), true);
      case 'invalid':
        return this.whenReady(tab, () => this.sendInvalid(tab, command.variant, command.id));
      case 'typing':
        return this.whenReady(tab, async () => tab.socket?.send({ type: 'typing', is_typing: command.isTyping }));
    }
  }

  /** Waits for every command in flight and every tab's queue. */
  async settle(): Promise<void> {
    for (;;) {
      const pending = [...this.inflight, ...this.allTabs().map((t) => t.chain)];
      await this.within(Promise.all(pending), 'settle');
      if (this.inflight.size === 0 && this.allTabs().every((t) => t.queued === 0)) return;
    }
  }

  /**
   * Ends the session as a demanding client would: everybody re-joins, every message id ever used is
   * re-sent over HTTP until accepted (a retry of an accepted one must say duplicate with the same id),
   * every open socket catches up with the journal. Then checks everything; returns the violations.
   */
  async quiesce(): Promise<string[]> {
    await this.settle();
    for (const conv of this.conversations) {
      for (const [userId, m] of conv.members) {
        if (m.member) continue;
        const res = await this.h.request('POST', `/chat/conversations/${conv.id}/join`, userId);
        if (res.status !== 200) this.problems.push(`final re-join of ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
        m.member = true;
      }
      for (const p of this.ledger.postsOf(conv.id)) await this.postHttpOnce(conv, p.userId, p.messageId, p.content);
    }
    for (const conv of this.conversations) {
      const journal = await readJournal(this.h, conv.id, this.humans[0]);
      journal.records.forEach((r, i) => {
        if (r.sequence_id !== i + 1) this.problems.push(`c${conv.index}: journal position ${i + 1} holds ${r.sequence_id}`);
      });
      const open = this.sockets.filter((s) => s.conversationId === conv.id && s.isOpen);
      await this.within(
        Promise.all(open.map((s) => s.client.until(() => s.maxSequenceId >= journal.last))),
        `c${conv.index} catch-up`,
      ).catch(() => {
        for (const s of open.filter((x) => x.maxSequenceId < journal.last))
          this.problems.push(`${s.label}: stuck at ${s.maxSequenceId} of ${journal.last}`);
      });
      this.count('records', journal.last);
      await this.checkConversation(conv, journal);
    }
    for (const s of this.sockets.filter((x) => x.isOpen)) {
      s.allowClose(1000);
      await s.client.close();
    }
    return this.problems;
  }

  private async checkConversation(conv: Conversation, journal: JournalView): Promise<void> {
    for (const s of this.sockets.filter((x) => x.conversationId === conv.id)) this.problems.push(...checkSocketStream(s, journal));
    this.problems.push(...this.ledger.checkJournal(conv.id, journal), ...journal.problems.map((why) => `c${conv.index}: ${why}`));
    const summary = await this.h.request('GET', `/chat/conversations/${conv.id}`, this.humans[0]);
    const ids = (summary.body.participants as Array<{ participant_id: string }>).map((p) => p.participant_id).sort();
    const expected = [...journal.membersAt(journal.last)].sort();
    if (ids.join() !== expected.join()) this.problems.push(`c${conv.index}: summary members ${ids} but the journal says ${expected}`);
  }

  // ---- commands ------------------------------------------------------------------------------

  private async postWs(tab: Tab, id: number): Promise<void> {
    const socket = tab.socket;
    if (!socket?.isOpen) return;
    const { messageId, content } = this.message(tab.conv, tab.userId, id);
    const membership = this.membership(tab);
    const before = { ...membership };
    this.ledger.post(tab.conv.id, tab.userId, messageId, content);
    const isPostAnswer = (a: Answer): boolean => a.kind === 'ack' || (a.kind === 'error' && a.code !== 'GATEWAY_ERR_CONTENT_INVALID');
    const answer = await socket.request({ type: 'message', message_id: messageId, content }, messageId, isPostAnswer);
    this.count(
      answer.kind === 'ack'
        ? answer.duplicate
          ? 'duplicate acks'
          : 'acks'
        : answer.kind === 'lost'
          ? 'posts cut off'
          : `refused ${answer.code}`,
    );
    if (answer.kind === 'ack') this.ledger.accepted(tab.conv.id, tab.userId, messageId, answer.sequenceId, answer.duplicate, true);
    if (answer.kind === 'error' && !(answer.code === 'CHAT_ERR_NOT_PARTICIPANT' && this.raced(before, membership)))
      this.problems.push(`${socket.label}: post ${messageId} refused with ${answer.code}`);
  }

  private async postHttp(tab: Tab, id: number): Promise<void> {
    const { messageId, content } = this.message(tab.conv, tab.userId, id);
    this.ledger.post(tab.conv.id, tab.userId, messageId, content);
    await this.postHttpOnce(tab.conv, tab.userId, messageId, content);
  }

  private async postHttpOnce(conv: Conversation, userId: string, messageId: string, content: string): Promise<void> {
    const membership = conv.members.get(userId)!;
    const before = { ...membership };
    const res = await this.h.request('POST', `/chat/conversations/${conv.id}/messages`, userId, { message_id: messageId, content });
    this.count(`HTTP posts ${res.status}`);
    if (res.status === 201) {
      if (res.body.message_id !== messageId) this.problems.push(`HTTP post ${messageId} answered for ${res.body.message_id}`);
      this.ledger.accepted(conv.id, userId, messageId, res.body.sequence_id, res.body.duplicate, true);
      // A retry of a message sequenced while a member is answered as a duplicate even after leaving (no new record).
      if (!before.member && !res.body.duplicate && !this.raced(before, membership))
        this.problems.push(`HTTP post ${messageId} of non-member ${userId} accepted as new`);
      return;
    }
    const refusedAsStranger = res.status === 403 && res.body.error === 'CHAT_ERR_NOT_PARTICIPANT';
    if (refusedAsStranger && (!before.member || this.raced(before, membership))) return;
    this.problems.push(`c${conv.index}: HTTP post ${userId}/${messageId} answered ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** A sync from the tab's last id, or `back` ids before it; `twice`: that one, then at once one from the last id. */
  private async sync(tab: Tab, back: number, twice: boolean): Promise<void> {
    const socket = tab.socket;
    if (!socket?.isOpen || tab.lastSeen === undefined) return;
    if (socket.outstandingSync) await socket.outstandingSync;
    if (!socket.isOpen || tab.lastSeen === undefined) return;
    const from = Math.max(0, tab.lastSeen - back);
    const points = twice && from < tab.lastSeen ? [from, tab.lastSeen] : [from];
    this.count(points.length > 1 ? 'double syncs' : back > 0 ? 'stale syncs' : 'syncs');
    await socket.sync(...points);
  }

  /** Every tab of the conversation cut off in the same turn, then each reconnects. */
  private async storm(convIndex: number, from: ResumeFrom): Promise<void> {
    const conv = this.conversations[convIndex % this.conversations.length];
    this.count('storms');
    await Promise.all(conv.tabs.flat().map((tab) => this.enqueue(tab, () => this.connect(tab, from, 0))));
  }

  private async drop(tab: Tab, abrupt: boolean): Promise<void> {
    const socket = tab.socket;
    if (!socket || socket.closeCode !== undefined) return;
    if (abrupt) {
      socket.allowClose(1006);
      socket.client.ws.terminate();
    } else {
      socket.allowClose(1000);
      socket.client.ws.close(1000);
    }
    await socket.closed;
  }

  /** (Re)connects a tab; a non-member must be refused with 403 unless `join` is set (then it is a re-join). */
  private async connect(tab: Tab, from: ResumeFrom, back: number, join = false): Promise<void> {
    const membership = this.membership(tab);
    if (!join || membership.member) {
      await this.open(tab, from, back, join);
      return;
    }
    await this.changeMembership(membership, async () => {
      if (await this.open(tab, from, back, true)) membership.member = true;
    });
  }

  /** connect() without the membership bookkeeping; true when the upgrade succeeded. */
  private async open(tab: Tab, from: ResumeFrom, back: number, join: boolean): Promise<boolean> {
    await this.drop(tab, true);
    const membership = this.membership(tab);
    const params: Record<string, string> = {};
    let resumeFrom: number | undefined;
    if (tab.lastSeen !== undefined && from !== 'none') {
      resumeFrom = from === 'last' ? tab.lastSeen : Math.max(0, tab.lastSeen - 1 - back);
      params.last_sequence_id = String(resumeFrom);
    }
    if (join) params.join = 'true';
    const label = `${tab.label}#${++this.socketCount}${resumeFrom === undefined ? '' : `(after ${resumeFrom})`}`;
    const observer = {
      onAck: (f: MessageAckFrame) => {
        if (!f.persisted) this.count('persisted: false acks');
        this.ledger.accepted(tab.conv.id, tab.userId, f.message_id, f.sequence_id, f.duplicate, false);
      },
      onConnected: (last: number) => {
        if (resumeFrom === undefined) tab.lastSeen = last;
      },
      onRecord: (seq: number) => this.advanceTab(tab, seq, label),
      problem: (why: string) => this.problems.push(why),
    };
    const socket = new SessionSocket(
      this.h.wsUrl(tab.conv.id, tab.userId, params),
      label,
      tab.conv.id,
      tab.userId,
      resumeFrom,
      observer,
      track,
    );
    const outcome = await socket.connected();
    this.count(
      !outcome.ok ? 'refused upgrades' : resumeFrom === undefined ? 'fresh connections' : from === 'stale' ? 'stale resumes' : 'resumes',
    );
    if (outcome.ok) {
      if (!membership.member && !join) this.problems.push(`${label}: a non-member's upgrade was accepted`);
      tab.socket = socket;
      this.sockets.push(socket);
      return true;
    }
    if (membership.member || join || outcome.status !== 403) this.problems.push(`${label}: upgrade refused with ${outcome.status}`);
    await socket.closed;
    return false;
  }

  /** The tab's cursor: a record after it must be the next one (replays of older ones are skipped, as clients do). */
  private advanceTab(tab: Tab, seq: number, label: string): void {
    if (tab.lastSeen !== undefined && seq <= tab.lastSeen) {
      this.count('records received again');
      return;
    }
    if (tab.lastSeen !== undefined && seq !== tab.lastSeen + 1)
      this.problems.push(`${label}: tab holds ${tab.lastSeen}, got ${seq}: a gap`);
    tab.lastSeen = seq;
  }

  /** Re-joins the conversation's first member who left, if any (so leaves and re-joins alternate), else leaves. */
  private async toggleMembership(chosen: Tab, via: MembershipVia): Promise<void> {
    const conv = chosen.conv;
    const away = this.humans.findIndex((u) => !conv.members.get(u)!.member);
    const tabIndex = conv.tabs[this.humans.indexOf(chosen.userId)].indexOf(chosen);
    const tab = away < 0 ? chosen : conv.tabs[away][tabIndex];
    const userTabs = conv.tabs[this.humans.indexOf(tab.userId)];
    await Promise.all(userTabs.map((t) => t.chain));
    const membership = this.membership(tab);
    this.count(membership.member ? `leaves (${via})` : `re-joins (${via})`);
    if (!membership.member && via === 'ws') return this.connect(tab, 'last', 0, true);
    await this.changeMembership(membership, async () => {
      if (membership.member) await this.leave(tab, userTabs, via);
      else {
        const res = await this.h.request('POST', `/chat/conversations/${conv.id}/join`, tab.userId);
        if (res.status !== 200) this.problems.push(`${tab.label}: join answered ${res.status}`);
      }
      membership.member = !membership.member;
    });
  }

  /** Runs a leave or re-join; answers racing it may reflect either membership. */
  private async changeMembership(membership: Membership, change: () => Promise<void>): Promise<void> {
    membership.changing++;
    membership.epoch++;
    try {
      await change();
    } finally {
      membership.epoch++;
      membership.changing--;
    }
  }

  /**
   * Leaves with the tab's `leave` frame (that socket closes with 1000), over HTTP, or removed by the owner; the
   * user's other sockets close with 4003.
   */
  private async leave(tab: Tab, userTabs: Tab[], via: MembershipVia): Promise<void> {
    const open = userTabs.map((t) => t.socket).filter((s): s is SessionSocket => s !== undefined && s.closeCode === undefined);
    const leaving = via === 'ws' && tab.socket?.isOpen ? tab.socket : undefined;
    for (const s of open) s.allowClose(s === leaving ? 1000 : 4003);
    if (leaving) {
      leaving.send({ type: 'leave' });
      // Any other close: the socket was closing already (an invalid frame in flight) and the leave was not processed.
      if ((await leaving.closed) !== 1000) return this.leave(tab, userTabs, 'http');
    } else {
      // Whoever holds the role now: the creator keeps it only until it leaves (a re-join is a member's).
      const owner = via === 'owner' ? await this.ownerOf(tab.conv) : undefined;
      const res =
        owner !== undefined
          ? await this.h.request('DELETE', `/chat/conversations/${tab.conv.id}/participants/${tab.userId}`, owner)
          : await this.h.request('POST', `/chat/conversations/${tab.conv.id}/leave`, tab.userId);
      if (res.status !== 200) this.problems.push(`${tab.label}: leave (${via}) answered ${res.status} ${JSON.stringify(res.body)}`);
    }
    await Promise.all(open.map((s) => s.closed));
  }

  /** The conversation's owner as the server has it, if any. */
  private async ownerOf(conv: Conversation): Promise<string | undefined> {
    const summary = await this.h.request('GET', `/chat/conversations/${conv.id}`, this.humans[0]);
    const participants = (summary.body.participants ?? []) as Array<{ participant_id: string; role?: string }>;
    return participants.find((p) => p.role === 'owner')?.participant_id;
  }

  private async sendInvalid(tab: Tab, variant: InvalidVariant, id: number): Promise<void> {
    const socket = tab.socket;
    if (!socket?.isOpen) return;
    this.count(`invalid ${variant}`);
    this.problems.push(...(await sendInvalidFrame(socket, variant, ++this.invalidCount, this.message(tab.conv, tab.userId, id))));
  }

  // ---- helpers -------------------------------------------------------------------------------

  private count(what: string, n = 1): void {
    this.stats.set(what, (this.stats.get(what) ?? 0) + n);
  }

  /** Runs `op` now if the tab has an open socket and nothing queued, else after the tab's queue. */
  private whenReady(tab: Tab, op: () => Promise<void>, exclusive = false): Promise<void> {
    if (tab.queued === 0 && tab.socket?.isOpen && !(exclusive && tab.socket.outstandingSync)) return op();
    return this.enqueue(tab, op);
  }

  private enqueue(tab: Tab, op: () => Promise<void>): Promise<void> {
    tab.queued++;
    const next = tab.chain.then(op).finally(() => tab.queued--);
    tab.chain = next.catch(() => undefined);
    return next;
  }

  private within<T>(p: Promise<T>, what: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const deadline = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: nothing after ${WAIT_MS} ms (a frame was lost?)\n${this.problems.join('\n')}`)),
        WAIT_MS,
      );
    });
    return Promise.race([p, deadline]).finally(() => clearTimeout(timer));
  }

  /** Whether a leave or re-join of this member started or ended since `before` (either outcome is then right). */
  private raced(before: Membership, now: Membership): boolean {
    return before.epoch !== now.epoch || before.changing > 0;
  }

  private membership(tab: Tab): Membership {
    return tab.conv.members.get(tab.userId)!;
  }

  private message(conv: Conversation, userId: string, id: number): { messageId: string; content: string } {
    return { messageId: `m${id}`, content: `${userId} says m${id} in c${conv.index}` };
  }

  private tabAt(at: TabRef): Tab {
    const conv = this.conversations[at.conv % this.conversations.length];
    const userTabs = conv.tabs[at.user % this.humans.length];
    return userTabs[at.tab % userTabs.length];
  }

  private allTabs(): Tab[] {
    return this.conversations.flatMap((c) => c.tabs.flat());
  }
}
