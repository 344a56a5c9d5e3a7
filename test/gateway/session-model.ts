import type { ChatMessage } from '../../actors/message-types';
import type { MessageAckFrame, ServerFrame } from '../../gateway/protocol/server-frames';
import { track, type Harness } from './harness';
import { ChangeCommands } from './session-change-commands';
import { ChangeLedger } from './session-changes';
import type { InvalidVariant, MembershipVia, ResumeFrom, SessionCommand, SessionSetup, TabRef } from './session-commands';
import { readJournal, type JournalView } from './session-journal';
import { PostLedger } from './session-ledger';
import { sendInvalidFrame } from './session-invalid-frames';
import { SessionSocket, type Answer } from './session-socket';
import { checkSocketStream, type SocketTrace } from './session-socket-check';
import { TabView } from './session-tab-view';
import { raced, type Conversation, type Membership, type Tab } from './session-tabs';

/** One socket event in a few characters: `r5` a record, `s3` a sync sent after 3, `c(5..7)` its sync_complete. */
function describeEvent(e: SocketTrace['events'][number]): string {
  if (e.kind === 'sync') return `sync(${e.after}${e.history === undefined ? '' : ` h${e.history}`})`;
  const f = e.frame;
  if (f.type === 'message') return `r${f.message.sequence_id}${f.message.message_type === 'text' ? '' : `:${f.message.message_type}`}`;
  if (f.type === 'sync_complete') return `complete(${f.from}..${f.to}${f.has_earlier === undefined ? '' : ` earlier=${f.has_earlier}`})`;
  if (f.type === 'connected') return `connected(${f.last_sequence_id})`;
  return f.type;
}

/** Bound on any single wait: a lost frame must fail the run with a message, not hang it. */
const WAIT_MS = 10_000;

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
  private readonly changes = new ChangeLedger();
  private readonly changeCommands: ChangeCommands;
  private readonly humans: string[];
  private socketCount = 0;
  private invalidCount = 0;

  constructor(
    private readonly h: Harness,
    private readonly setup: SessionSetup,
  ) {
    this.humans = Array.from({ length: setup.humans }, (_, i) => `u${i}`);
    this.changeCommands = new ChangeCommands({
      h,
      posts: this.ledger,
      changes: this.changes,
      problem: (why) => this.problems.push(why),
      count: (what) => this.count(what),
      ownerOf: (conv) => this.ownerOf(conv),
    });
  }

  /** Creates the conversations (everybody a member) and opens every tab. */
  async start(): Promise<void> {
    for (let index = 0; index < this.setup.conversations; index++) {
      const id = await this.h.createConversation(this.humans[0], this.humans.slice(1));
      const members = new Map(this.humans.map((u) => [u, { member: true, epoch: 0, changing: 0, marked: 0, framed: [] }]));
      const conv: Conversation = { index, id, members, tabs: [] };
      conv.tabs.push(
        ...this.humans.map((userId) =>
          Array.from({ length: this.setup.tabsPerUser }, (_, t) => ({
            conv,
            userId,
            label: `c${index}/${userId}/t${t}`,
            socket: undefined,
            lastSeen: undefined,
            view: new TabView(),
            historyPending: 0,
            unpaged: [],
            readSentAt: undefined,
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
    const messageId = this.changeTarget(tab, command);
    switch (command.kind) {
      case 'edit': {
        const content = `${tab.userId} edits ${messageId} in c${tab.conv.index} (v${command.version})`;
        const edit = () => this.changeCommands.edit(tab, messageId, content, command.via);
        return command.via === 'ws' ? this.whenReady(tab, edit) : edit();
      }
      case 'delete': {
        const del = () => this.changeCommands.delete(tab, messageId, command.via);
        return command.via === 'ws' ? this.whenReady(tab, del) : del();
      }
      case 'redact':
        return this.changeCommands.redact(tab, messageId, command.bySender);
      case 'read': {
        const mark = () =>
          this.changeCommands.read(
            tab,
            command.pastEnd ? (tab.lastSeen ?? 0) + 3 : Math.max(0, (tab.lastSeen ?? 0) - command.back),
            command.via,
          );
        return command.via === 'ws' ? this.whenReady(tab, mark) : mark();
      }
      case 'options':
        return this.whenReady(tab, async () => {
          this.count('read_batches asked');
          tab.socket?.send({ type: 'options', read_batches: true });
        });
      case 'post':
        return command.via === 'http' ? this.postHttp(tab, command.id) : this.whenReady(tab, () => this.postWs(tab, command.id));
      case 'drop':
        return this.enqueue(tab, () => this.drop(tab, command.abrupt));
      case 'connect':
        return this.enqueue(tab, () => this.connect(tab, command.from, command.back, command.join, command.history));
      case 'sync':
        return this.whenReady(
          tab,
          () => this.sync(tab, command.stale || command.twice ? command.back + 1 : 0, command.twice, command.history),
          true,
        );
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
   * every tab reconnects from its last id, every socket catches up with the journal, and every socket's read
   * positions with the server's. Then checks everything; returns the violations.
   */
  async quiesce(): Promise<string[]> {
    await this.settle();
    for (const conv of this.conversations) {
      for (const [userId, m] of conv.members) {
        if (m.member) continue;
        const res = await this.h.request('POST', `/chat/conversations/${conv.id}/join`, userId);
        if (res.status !== 200) this.problems.push(`final re-join of ${userId}: ${res.status} ${JSON.stringify(res.body)}`);
        m.member = true;
        m.marked = 0;
        m.framed = [];
      }
      for (const p of this.ledger.postsOf(conv.id)) await this.postHttpOnce(conv, p.userId, p.messageId, p.content);
    }
    for (const tab of this.allTabs())
      if (!tab.socket?.isOpen) await this.enqueue(tab, () => this.open(tab, 'last', 0, false).then(() => undefined));
    await this.settle();
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
    // SESSION_TRACE=1: what each socket named in a violation saw, for minimising by hand.
    if (process.env.SESSION_TRACE && this.problems.length > 0)
      for (const s of this.sockets.filter((x) =>
        this.problems.some((p) => p.includes(x.label) || p.startsWith(`${x.label.split('#')[0]}:`)),
      ))
        this.problems.push(`trace ${s.label}: ${s.events.map(describeEvent).join(' ')}`);
    return this.problems;
  }

  private async checkConversation(conv: Conversation, journal: JournalView): Promise<void> {
    for (const s of this.sockets.filter((x) => x.conversationId === conv.id)) this.problems.push(...checkSocketStream(s, journal));
    this.problems.push(...this.ledger.checkJournal(conv.id, journal), ...journal.problems.map((why) => `c${conv.index}: ${why}`));
    this.problems.push(...this.changes.checkJournal(conv.id, journal).map((why) => `c${conv.index}: ${why}`));
    for (const tab of conv.tabs.flat()) {
      if (!tab.socket?.isOpen || tab.lastSeen !== journal.last) continue;
      this.count('tab views checked');
      this.problems.push(...tab.view.check(tab.label, journal));
    }
    await this.checkReadPositions(conv);
    const summary = await this.h.request('GET', `/chat/conversations/${conv.id}`, this.humans[0]);
    const ids = (summary.body.participants as Array<{ participant_id: string }>).map((p) => p.participant_id).sort();
    const expected = [...journal.membersAt(journal.last)].sort();
    if (ids.join() !== expected.join()) this.problems.push(`c${conv.index}: summary members ${ids} but the journal says ${expected}`);
  }

  /**
   * Each member's read position as the server has it (at least the highest mark it surely took), and every open
   * socket's client holding exactly those once the announcements arrived.
   */
  private async checkReadPositions(conv: Conversation): Promise<void> {
    const positions = new Map<string, number>();
    for (const [userId, m] of conv.members) {
      const res = await this.h.request('GET', `/chat/conversations/${conv.id}`, userId);
      positions.set(userId, res.body.read_up_to as number);
      const marked = Math.max(m.marked, ...m.framed.filter((f) => f.socket.isOpen).map((f) => f.upTo));
      if (!(res.body.read_up_to >= marked))
        this.problems.push(`c${conv.index}: ${userId} read up to ${res.body.read_up_to}, marked ${marked}`);
    }
    const agrees = (s: SessionSocket): boolean => [...positions].every(([u, at]) => s.reads.positions.get(u) === at);
    const open = this.sockets.filter((s) => s.conversationId === conv.id && s.isOpen);
    this.count('read rosters checked', open.length);
    await this.within(Promise.all(open.map((s) => s.client.until(() => agrees(s)))), `c${conv.index} read positions`).catch(() => {
      for (const s of open.filter((x) => !agrees(x)))
        this.problems.push(
          `${s.label}: read positions ${JSON.stringify([...s.reads.positions])}, the server's ${JSON.stringify([...positions])}`,
        );
    });
  }

  // ---- commands ------------------------------------------------------------------------------

  private async postWs(tab: Tab, id: number): Promise<void> {
    const socket = tab.socket;
    if (!socket?.isOpen) return;
    const { messageId, content } = this.message(tab.conv, tab.userId, id);
    const membership = this.membership(tab);
    const before = { ...membership };
    this.ledger.post(tab.conv.id, tab.userId, messageId, content, socket);
    const isPostAnswer = (a: Answer): boolean =>
      a.kind === 'ack' || (a.kind === 'error' && a.replyTo === 'message' && a.code !== 'GATEWAY_ERR_CONTENT_INVALID');
    const answer = await socket.request({ type: 'message', message_id: messageId, content }, messageId, isPostAnswer);
    this.count(
      answer.kind === 'ack'
        ? answer.duplicate
          ? 'duplicate acks'
          : 'acks'
        : answer.kind === 'error'
          ? `refused ${answer.code}`
          : 'posts cut off',
    );
    if (answer.kind === 'ack') this.ledger.accepted(tab.conv.id, tab.userId, messageId, answer.sequenceId, answer.duplicate, true);
    if (answer.kind === 'error' && !(answer.code === 'CHAT_ERR_NOT_PARTICIPANT' && raced(before, membership)))
      this.problems.push(`${socket.label}: post ${messageId} refused with ${answer.code}`);
  }

  private async postHttp(tab: Tab, id: number): Promise<void> {
    const { messageId, content } = this.message(tab.conv, tab.userId, id);
    this.ledger.post(tab.conv.id, tab.userId, messageId, content, 'http');
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
      if (!before.member && !res.body.duplicate && !raced(before, membership))
        this.problems.push(`HTTP post ${messageId} of non-member ${userId} accepted as new`);
      return;
    }
    const refusedAsStranger = res.status === 403 && res.body.error === 'CHAT_ERR_NOT_PARTICIPANT';
    if (refusedAsStranger && (!before.member || raced(before, membership))) return;
    this.problems.push(`c${conv.index}: HTTP post ${userId}/${messageId} answered ${res.status} ${JSON.stringify(res.body)}`);
  }

  /** A sync from the tab's last id, or `back` ids before it; `twice`: that one, then at once one from the last id. */
  private async sync(tab: Tab, back: number, twice: boolean, history: number | undefined): Promise<void> {
    const socket = tab.socket;
    if (!socket?.isOpen || tab.lastSeen === undefined) return;
    if (socket.outstandingSync) await socket.outstandingSync;
    if (!socket.isOpen || tab.lastSeen === undefined) return;
    const from = Math.max(0, tab.lastSeen - back);
    const points = twice && from < tab.lastSeen ? [from, tab.lastSeen] : [from];
    this.count(`${points.length > 1 ? 'double syncs' : back > 0 ? 'stale syncs' : 'syncs'}${history === undefined ? '' : ' (history)'}`);
    if (history !== undefined) tab.historyPending += points.length;
    await socket.sync(points, history);
    // Every sync answered (or superseded, or the socket closed): no jump in the stream is a bound's any more.
    if (tab.socket === socket) tab.historyPending = 0;
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
  private async connect(tab: Tab, from: ResumeFrom, back: number, join = false, history?: number): Promise<void> {
    const membership = this.membership(tab);
    if (!join || membership.member) {
      await this.open(tab, from, back, join, history);
      return;
    }
    await this.changeMembership(membership, async () => {
      if (await this.open(tab, from, back, true, history)) membership.member = true;
    });
  }

  /** connect() without the membership bookkeeping; true when the upgrade succeeded. */
  private async open(tab: Tab, from: ResumeFrom, back: number, join: boolean, history?: number): Promise<boolean> {
    await this.drop(tab, true);
    const membership = this.membership(tab);
    const params: Record<string, string> = {};
    let resumeFrom: number | undefined;
    if (tab.lastSeen !== undefined && from !== 'none') {
      resumeFrom = from === 'last' ? tab.lastSeen : Math.max(0, tab.lastSeen - 1 - back);
      params.last_sequence_id = String(resumeFrom);
    }
    if (join) params.join = 'true';
    if (history !== undefined) params.history = String(history);
    const label = `${tab.label}#${++this.socketCount}${resumeFrom === undefined ? '' : `(after ${resumeFrom})`}${history === undefined ? '' : `[history ${history}]`}`;
    tab.historyPending = history === undefined ? 0 : 1;
    const observer = {
      onAck: (f: MessageAckFrame) => {
        if (!f.persisted) this.count('persisted: false acks');
        this.ledger.accepted(tab.conv.id, tab.userId, f.message_id, f.sequence_id, f.duplicate, false);
      },
      onConnected: (last: number) => {
        if (resumeFrom !== undefined) return;
        // A new start: the client shows only what this connection brings (the last `history` records, then live).
        tab.lastSeen = history === undefined ? last : Math.max(0, last - history);
        tab.view.reset();
        tab.unpaged = [];
      },
      onRecord: (m: ChatMessage) => this.advanceTab(tab, m, label),
      onSyncComplete: (f: Extract<ServerFrame, { type: 'sync_complete' }>) => {
        if (f.has_earlier !== undefined) tab.historyPending = Math.max(0, tab.historyPending - 1);
      },
      onReadRefused: (code: string) => this.changeCommands.readRefused(tab, code),
      problem: (why: string) => this.problems.push(why),
    };
    const socket = new SessionSocket(
      this.h.wsUrl(tab.conv.id, tab.userId, params),
      label,
      tab.conv.id,
      tab.userId,
      resumeFrom,
      history,
      observer,
      track,
    );
    const outcome = await socket.connected();
    this.count(
      (!outcome.ok ? 'refused upgrades' : resumeFrom === undefined ? 'fresh connections' : from === 'stale' ? 'stale resumes' : 'resumes') +
        (history === undefined || !outcome.ok ? '' : ' (history)'),
    );
    if (outcome.ok) {
      if (!membership.member && !join) this.problems.push(`${label}: a non-member's upgrade was accepted`);
      tab.socket = socket;
      this.sockets.push(socket);
      for (const { first, last } of tab.unpaged.splice(0)) this.track(this.pageIn(tab, first, last), false, 'history paging');
      return true;
    }
    if (membership.member || join || outcome.status !== 403) this.problems.push(`${label}: upgrade refused with ${outcome.status}`);
    await socket.closed;
    return false;
  }

  /**
   * The tab's cursor: a record after it must be the next one (replays of older ones are skipped, as clients do),
   * unless a history bound left ids out: the tab pages those in over HTTP, as a chat view scrolling back does.
   */
  private advanceTab(tab: Tab, m: ChatMessage, label: string): void {
    const seq = m.sequence_id;
    if (tab.lastSeen !== undefined && seq <= tab.lastSeen) {
      this.count('records received again');
      return;
    }
    if (tab.lastSeen !== undefined && seq !== tab.lastSeen + 1) {
      if (tab.historyPending > 0) this.track(this.pageIn(tab, tab.lastSeen + 1, seq - 1), false, 'history paging');
      else this.problems.push(`${label}: tab holds ${tab.lastSeen}, got ${seq}: a gap`);
    }
    tab.lastSeen = seq;
    tab.view.apply(m);
  }

  /** Reads ids first..last backwards over HTTP (`before=`, small pages) into the tab's view; they must all come. */
  private async pageIn(tab: Tab, first: number, last: number): Promise<void> {
    this.count('history gaps paged in');
    const got: number[] = [];
    let before = last + 1;
    while (before > first) {
      const res = await this.h.request('GET', `/chat/conversations/${tab.conv.id}/messages?before=${before}&limit=2`, tab.userId);
      // Left meanwhile: nothing to read until the tab is a member again (then it reads the rest).
      if (res.status === 403 && res.body.error === 'CHAT_ERR_NOT_PARTICIPANT') return void tab.unpaged.push({ first, last: before - 1 });
      if (res.status !== 200) return void this.problems.push(`${tab.label}: history page before ${before}: ${res.status}`);
      const page = res.body.messages as ChatMessage[];
      for (const m of [...page].reverse()) if (m.sequence_id >= first) got.push(m.sequence_id);
      for (const m of page) if (m.sequence_id >= first) tab.view.fill(m);
      if (!res.body.has_more || page.length === 0) break;
      before = res.body.next_before as number;
    }
    const expected = Array.from({ length: last - first + 1 }, (_, i) => last - i);
    if (got.join() !== expected.join()) this.problems.push(`${tab.label}: paged in ${got.join(',')} for ${first}..${last}`);
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
    const wasMember = membership.member;
    membership.changing++;
    membership.epoch++;
    try {
      await change();
    } finally {
      membership.epoch++;
      membership.changing--;
      // A re-joined member starts reading at its new join record.
      if (membership.member && !wasMember) {
        membership.marked = 0;
        membership.framed = [];
      }
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

  private membership(tab: Tab): Membership {
    return tab.conv.members.get(tab.userId)!;
  }

  private message(conv: Conversation, userId: string, id: number): { messageId: string; content: string } {
    return { messageId: `m${id}`, content: `${userId} says m${id} in c${conv.index}` };
  }

  /**
   * The message an edit, delete or redaction names: mostly one of the user's accepted posts (so changes are taken),
   * one time in four `m<id>` whatever it is (often never sent: refused).
   */
  private changeTarget(tab: Tab, command: SessionCommand): string {
    const id = 'id' in command ? command.id : 0;
    const own = this.ledger
      .postsOf(tab.conv.id)
      .filter((p) => p.userId === tab.userId && this.ledger.sequenceOf(tab.conv.id, p.userId, p.messageId) !== undefined);
    return own.length > 0 && id % 4 !== 3 ? own[id % own.length].messageId : this.message(tab.conv, tab.userId, id).messageId;
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
