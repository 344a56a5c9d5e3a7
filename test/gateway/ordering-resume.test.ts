import { ChatError } from '../../actors/errors';
import type { ChatMessage } from '../../actors/message-types';
import { MemoryStore } from '../../storage-providers';
import { closeAll, invalidFrames, startHarness, track, type Harness } from './harness';
import { connectClient, postContinuously, refusedStatus, TestClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** A MemoryStore whose journal reads fail on demand (writes keep working). */
class FlakyReadStore extends MemoryStore {
  failReads = false;
  protected override async _readMessages(conversationId: string, afterSequenceId: number, limit: number): Promise<ChatMessage[]> {
    if (this.failReads) throw new ChatError('STORAGE_ERR_UNAVAILABLE', 'reads are failing');
    return super._readMessages(conversationId, afterSequenceId, limit);
  }
}

const isHuman = (m: { sender_type: string }): boolean => m.sender_type === 'human';

function expectConsecutive(seqs: number[]): void {
  for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe(seqs[i - 1] + 1);
}

describe('gateway ordering, membership and resume', () => {
  let h: Harness;

  test('three humans sending simultaneously all see one identical order', async () => {
    h = await startHarness();
    const users = ['alice', 'bob', 'carol'];
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    const clients = await Promise.all(users.map((u) => h.connect(conv, u)));
    const perUser = 15;
    for (let i = 0; i < perUser; i++) {
      clients.forEach((c, j) => c.send({ type: 'message', message_id: `${users[j]}-${i}`, content: `hello ${i} from ${users[j]}` }));
    }
    const total = perUser * users.length;
    await Promise.all(clients.map((c) => c.until(() => c.sequenceIds(isHuman).length === total)));

    const orders = clients.map((c) =>
      c.frames.flatMap((f) => (f.type === 'message' && isHuman(f.message) ? [`${f.message.sequence_id}:${f.message.message_id}`] : [])),
    );
    expect(orders[1]).toEqual(orders[0]);
    expect(orders[2]).toEqual(orders[0]);
    expect(new Set(orders[0]).size).toBe(total);
    expectConsecutive(clients[0].sequenceIds());
    // Every sender got one first ack per message, with the sequence id everybody saw.
    for (const [j, c] of clients.entries()) {
      await c.until(() => c.frames.filter((f) => f.type === 'message_ack' && !f.duplicate).length >= perUser);
      const seen = new Map(
        clients[0].frames.flatMap((f) => (f.type === 'message' ? [[f.message.message_id, f.message.sequence_id] as const] : [])),
      );
      for (let i = 0; i < perUser; i++) {
        const ack = await c.waitFor('message_ack', (a) => a.message_id === `${users[j]}-${i}`);
        expect(ack.sequence_id).toBe(seen.get(`${users[j]}-${i}`));
      }
    }
  });

  test('a participant joins and another leaves mid-conversation', async () => {
    h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    alice.send({ type: 'message', message_id: 'a1', content: 'before dave' });
    await bob.waitFor('message', (f) => f.message.message_id === 'a1');

    // Dave is not a member: refused without ?join=true, admitted with it.
    expect(await refusedStatus(h.wsUrl(conv, 'dave'))).toBe(403);
    const dave = await h.connect(conv, 'dave', { join: 'true' });
    const joined = await alice.waitFor('participant_update', (f) => f.participant.participant_id === 'dave');
    expect(joined).toMatchObject({ action: 'join', participant_count: 3 });
    dave.send({ type: 'message', message_id: 'd1', content: 'hi, dave here' });
    const fromDave = await alice.waitFor('message', (f) => f.message.message_id === 'd1');
    expect(fromDave.message.sender_id).toBe('dave');
    // Dave saw neither the earlier message (live only) nor anything twice.
    expect(dave.sequenceIds().length).toBe(new Set(dave.sequenceIds()).size);
    expect(dave.frames.some((f) => f.type === 'message' && f.message.message_id === 'a1')).toBe(false);

    bob.send({ type: 'leave' });
    expect((await bob.closed).code).toBe(1000);
    const left = await alice.waitFor('participant_update', (f) => f.action === 'leave');
    expect(left).toMatchObject({ participant: { participant_id: 'bob' }, participant_count: 2 });
    expect(await refusedStatus(h.wsUrl(conv, 'bob'))).toBe(403);
    const summary = await h.request('GET', `/chat/conversations/${conv}`, 'alice');
    expect(summary.body.participants.map((p: { participant_id: string }) => p.participant_id).sort()).toEqual(['alice', 'dave']);
  });

  test('a second human joining switches the mode: participant_update then mode_change', async () => {
    h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice');
    expect(await alice.waitFor('connected')).toMatchObject({
      mode: 'single',
      input_timeout: h.config.chat.input.single_mode_typing_window_ms,
    });
    expect((await alice.waitFor('participant_list')).participants.map((p) => p.participant_id)).toEqual(['alice']);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
    const update = await alice.next('participant_update');
    expect(update).toMatchObject({ action: 'join', participant: { participant_id: 'bob' }, participant_count: 2 });
    const change = await alice.next('mode_change');
    expect(change.mode).toBe('multi');
    const record = await alice.waitFor('message', (f) => f.message.message_type === 'mode_change');
    expect(change.sequence_id).toBe(record.message.sequence_id);
    const bob = await h.connect(conv, 'bob');
    expect(await bob.waitFor('connected')).toMatchObject({ mode: 'multi', input_timeout: h.config.chat.input.multi_mode_window_ms });
  });

  test('resume with last_sequence_id gets exactly the missed messages, then live ones, while another client keeps posting', async () => {
    h = await startHarness({ chat: { limits: { rate_limit_burst: 10_000 } } });
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    const carol = await h.connect(conv, 'carol');
    for (let i = 0; i < 5; i++) alice.send({ type: 'message', message_id: `pre-${i}`, content: `pre ${i}` });
    await bob.until(() => bob.sequenceIds(isHuman).length === 5);
    await bob.close();
    const resumeFrom = bob.lastSequenceId();

    // Carol posts continuously, each post after the previous ack, until the resumed bob has seen live traffic.
    const posting = postContinuously(carol);
    await carol.until(() => posting.acked() >= 10);

    const bob2 = track(new TestClient(h.wsUrl(conv, 'bob', { last_sequence_id: String(resumeFrom) })));
    await bob2.opened;
    const sync = await bob2.waitFor('sync_complete');
    expect(sync.recovered).toBe(true);
    expect(sync.from).toBe(resumeFrom + 1);
    const liveMark = alice.lastSequenceId() + 5;
    await bob2.until(() => bob2.lastSequenceId() >= liveMark);
    const final = await posting.stop();
    await bob2.waitForSequence(final);

    const seqs = bob2.sequenceIds();
    expect(seqs[0]).toBe(resumeFrom + 1);
    expectConsecutive(seqs);
    expect(seqs[seqs.length - 1]).toBe(final);
    expect(alice.sequenceIds().filter((s) => s > resumeFrom)).toEqual(seqs);
  });

  test('a sync frame replays from the given point on an open connection', async () => {
    h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    for (let i = 0; i < 4; i++) alice.send({ type: 'message', message_id: `m${i}`, content: `m${i}` });
    await bob.until(() => bob.sequenceIds(isHuman).length === 4);
    const humanSeqs = bob.sequenceIds(isHuman);
    const before = bob.frames.length;
    bob.send({ type: 'sync', last_sequence_id: humanSeqs[1] });
    const sync = await bob.waitFor('sync_complete');
    expect(sync).toMatchObject({ from: humanSeqs[1] + 1, recovered: true });
    const replayed = bob.frames.slice(before).flatMap((f) => (f.type === 'message' ? [f.message.sequence_id] : []));
    expect(replayed).toEqual(humanSeqs.slice(2));
    alice.send({ type: 'message', message_id: 'after-sync', content: 'live again' });
    const live = await bob.waitFor('message', (f) => f.message.message_id === 'after-sync');
    expect(live.message.sequence_id).toBe(humanSeqs[3] + 1);
  });

  test('reconnect storm: everybody drops and reconnects while messages flow; nothing lost or duplicated', async () => {
    h = await startHarness({ chat: { limits: { rate_limit_burst: 10_000 } } });
    const users = ['u1', 'u2', 'u3', 'u4'];
    const conv = await h.createConversation('u1', users.slice(1));
    const perUser = 30;
    const acked = new Map(users.map((u) => [u, new Set<string>()]));
    const seenByUser = new Map(users.map((u) => [u, [] as number[]]));
    const open = async (u: string, after?: number): Promise<TestClient> => {
      const c = track(new TestClient(h.wsUrl(conv, u, after === undefined ? {} : { last_sequence_id: String(after) })));
      c.ws.on('message', (data) => {
        const f = JSON.parse(data.toString());
        if (f.type === 'message_ack') acked.get(u)!.add(f.message_id);
        if (f.type === 'message') seenByUser.get(u)!.push(f.message.sequence_id);
      });
      await c.opened;
      await c.waitFor('connected');
      return c;
    };
    const first = await Promise.all(users.map((u) => open(u)));
    const startSeq = Math.max(...(await Promise.all(first.map((c) => c.waitFor('connected')))).map((f) => f.last_sequence_id));
    const send = (c: TestClient, u: string, from: number, to: number): void => {
      for (let i = from; i < to; i++) c.send({ type: 'message', message_id: `${u}-${i}`, content: `${u} ${i}` });
    };
    first.forEach((c, j) => send(c, users[j], 0, perUser / 2));
    // Drop everybody at once, mid-flow: frames still in flight may or may not have reached the server.
    first.forEach((c) => c.ws.terminate());
    await Promise.all(first.map((c) => c.closed));
    const second = await Promise.all(
      users.map((u) =>
        open(
          u,
          seenByUser.get(u)!.reduce((a, b) => Math.max(a, b), startSeq),
        ),
      ),
    );
    // At-least-once: re-send everything unacknowledged with the same message ids, then the rest.
    second.forEach((c, j) => {
      const u = users[j];
      for (let i = 0; i < perUser / 2; i++) if (!acked.get(u)!.has(`${u}-${i}`)) send(c, u, i, i + 1);
      send(c, u, perUser / 2, perUser);
    });
    // Count this connection's own frames too: `until` runs before the listener above updates `acked`.
    const ackedBy = (c: TestClient, u: string): number =>
      new Set([...acked.get(u)!, ...c.frames.flatMap((f) => (f.type === 'message_ack' ? [f.message_id as string] : []))]).size;
    await Promise.all(second.map((c, j) => c.until(() => ackedBy(c, users[j]) === perUser)));
    const lastSeq = Math.max(...second.flatMap((c) => c.frames.flatMap((f) => (f.type === 'message_ack' ? [f.sequence_id] : []))));
    await Promise.all(second.map((c) => c.waitForSequence(lastSeq)));

    for (const u of users) {
      const seqs = seenByUser.get(u)!;
      expect(new Set(seqs).size).toBe(seqs.length); // no duplicates across the two connections
      expectConsecutive(seqs); // and no gap
      expect(seqs[seqs.length - 1]).toBe(lastSeq);
    }
    // The journal holds every message id exactly once.
    const page = await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=500`, 'u1');
    const ids = (page.body.messages as { message_id: string; sender_type: string }[]).filter(isHuman).map((m) => m.message_id);
    expect(ids.length).toBe(users.length * perUser);
    expect(new Set(ids).size).toBe(ids.length);
  });

  test('resume beyond the cache reads the journal; when the journal cannot be read the client is told recovered: false', async () => {
    const store = new FlakyReadStore();
    h = await startHarness({ chat: { cache: { recent_messages: 2 }, limits: { rate_limit_burst: 1000 } } }, { store });
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    for (let i = 0; i < 10; i++) alice.send({ type: 'message', message_id: `m${i}`, content: `m${i}` });
    await alice.waitFor('message_ack', (a) => a.message_id === 'm9' && a.persisted);
    const last = alice.lastSequenceId();

    const fromJournal = await h.connect(conv, 'bob', { last_sequence_id: '1' });
    expect(await fromJournal.waitFor('sync_complete')).toEqual({ type: 'sync_complete', from: 2, to: last, recovered: true });
    expect(fromJournal.sequenceIds()).toEqual(Array.from({ length: last - 1 }, (_, i) => i + 2));
    await fromJournal.close();

    store.failReads = true;
    const lost = await h.connect(conv, 'bob', { last_sequence_id: '1' });
    const sync = await lost.waitFor('sync_complete');
    expect(sync).toMatchObject({ from: 2, to: last, recovered: false });
    // Whatever the replay could not deliver, live records continue after the range without duplicates.
    alice.send({ type: 'message', message_id: 'after', content: 'live' });
    const live = await lost.waitFor('message', (f) => f.message.message_id === 'after');
    expect(live.message.sequence_id).toBe(last + 1);
    expect(new Set(lost.sequenceIds()).size).toBe(lost.sequenceIds().length);
    expect(lost.sequenceIds().every((s) => s > 1)).toBe(true);
  });

  test('a resume point ahead of the conversation (server lost its journal) resumes from the real end', async () => {
    h = await startHarness();
    const conv = await h.createConversation('alice');
    const c = track(await connectClient(h.wsUrl(conv, 'alice', { last_sequence_id: '999' })));
    const connected = await c.waitFor('connected');
    expect(connected.last_sequence_id).toBeLessThan(999);
    await c.waitFor('sync_complete');
    c.send({ type: 'message', message_id: 'x', content: 'still works' });
    const ack = await c.waitFor('message_ack', (a) => a.message_id === 'x');
    // The client must still receive its own and later messages, which are below its stale resume point.
    const echoed = await c.waitFor('message', (f) => f.message.message_id === 'x');
    expect(echoed.message.sequence_id).toBe(ack.sequence_id);
    c.send({ type: 'sync', last_sequence_id: 500 });
    await c.until(() => c.frames.filter((f) => f.type === 'sync_complete').length === 2);
    c.send({ type: 'message', message_id: 'y', content: 'after a stale sync' });
    await c.waitFor('message', (f) => f.message.message_id === 'y');
  });
});
