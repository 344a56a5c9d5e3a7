/**
 * A member adds humans and AI agents (POST /chat/conversations/{id}/participants), the owner removes members
 * (DELETE /chat/conversations/{id}/participants/{participant_id}): docs/http-api.md, docs/security.md "Adding and
 * removing members". Real server on port 0, real sockets, MemoryStore; one SQLite restart.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Agent, AgentOutput } from '../../actors/agents/agent';
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { createManualClock } from '../../actors/clock';
import type { ChatMessage } from '../../actors/message-types';
import { SqliteStore } from '../../storage-providers';
import { captureAudit } from '../observability/audit-lines';
import { closeAll, invalidFrames, startHarness, type Harness } from './harness';
import { closeReaders, openEvents } from './sse-test-client';

afterEach(async () => {
  await closeReaders();
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

const participants = (conv: string) => `/chat/conversations/${conv}/participants`;

async function history(h: Harness, conv: string, reader = 'alice'): Promise<ChatMessage[]> {
  const res = await h.request('GET', `/chat/conversations/${conv}/messages?after=0`, reader);
  expect(res.status).toBe(200);
  return res.body.messages as ChatMessage[];
}

async function memberIds(h: Harness, conv: string): Promise<string[]> {
  return (await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id).sort();
}

/** Waits event-loop turns (no timer) until `condition` holds: for what the agent double records outside any frame. */
async function turnsUntil(condition: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000 && !condition(); i++) await new Promise((resolve) => setImmediate(resolve));
  expect(condition()).toBe(true);
}

/** An agent whose every turn runs until aborted, recording that it started and why it ended. */
function blockingAgent(started: string[], aborts: string[]): Agent {
  return {
    id: 'slow',
    displayName: 'Slow',
    wantsTurn: (m) => m.sender_type === 'human',
    async *respond(turn, signal): AsyncIterable<AgentOutput> {
      started.push(turn.trigger.message_id);
      await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
      aborts.push(String((signal.reason as Error | undefined)?.message));
    },
  };
}

describe('POST …/participants: a member adds a human or an AI agent', () => {
  test('a member adds a human: a join record saying added_by, every socket hears it, the added user connects and posts', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    await alice.waitFor('participant_list');

    const added = await h.request('POST', participants(conv), 'bob', { participant_id: 'carol', display_name: 'Carol' });
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({
      conversation_id: conv,
      added_by: 'bob',
      participant: { participant_id: 'carol', participant_type: 'human', display_name: 'Carol', role: 'member' },
    });
    const join = (await history(h, conv)).find((m) => m.message_type === 'join' && m.sender_id === 'carol');
    expect(join?.metadata).toMatchObject({ added_by: 'bob', participant: { participant_id: 'carol' }, participant_count: 3 });
    expect(await alice.waitFor('participant_update', (f) => f.participant.participant_id === 'carol')).toMatchObject({
      action: 'join',
    });

    const carol = await h.connect(conv, 'carol');
    await carol.waitFor('connected');
    carol.send({ type: 'message', message_id: 'c1', content: 'thanks for adding me' });
    await carol.waitFor('message_ack', (f) => f.message_id === 'c1');
    await alice.waitFor('message', (f) => f.message.message_id === 'c1');
    // A self-join carries no added_by.
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'dave')).status).toBe(200);
    const selfJoin = (await history(h, conv)).find((m) => m.message_type === 'join' && m.sender_id === 'dave');
    expect(selfJoin?.metadata).not.toHaveProperty('added_by');
  });

  test('a member adds a registered agent: it answers the next message', async () => {
    const h = await startHarness({}, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob']);
    const added = await h.request('POST', participants(conv), 'bob', { participant_id: 'echo', participant_type: 'ai' });
    expect(added.status).toBe(200);
    expect(added.body.participant).toMatchObject({
      participant_id: 'echo',
      participant_type: 'ai',
      agent_id: 'echo',
      display_name: 'Echo',
    });

    const alice = await h.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'a1', content: 'hello agent' });
    const answer = await alice.waitFor('message', (f) => f.message.sender_id === 'echo' && f.message.message_type !== 'join');
    expect(answer.message.content).toContain('echo: hello agent');
  });

  test('refusals: a non-member 403, an unknown agent 400, "system" 400, the other type 403, past the limit 409; a member again is a harmless 200', async () => {
    const h = await startHarness({ chat: { limits: { max_participants: 4 } } }, { agents: [createEchoAgent()] });
    const conv = await h.createConversation('alice', ['bob'], { agents: ['echo'] });
    const before = await history(h, conv);

    const outsider = await h.request('POST', participants(conv), 'mallory', { participant_id: 'mallory2' });
    expect([outsider.status, outsider.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
    const unknown = await h.request('POST', participants(conv), 'bob', { participant_id: 'nobody', participant_type: 'ai' });
    expect([unknown.status, unknown.body.error]).toEqual([400, 'GATEWAY_ERR_BAD_REQUEST']);
    expect(unknown.body.message).toContain('nobody');
    const system = await h.request('POST', participants(conv), 'bob', { participant_id: 'system' });
    expect([system.status, system.body.error]).toEqual([400, 'CHAT_ERR_INVALID_ARGUMENT']);
    const otherType = await h.request('POST', participants(conv), 'bob', { participant_id: 'echo', participant_type: 'human' });
    expect([otherType.status, otherType.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
    const humanWithAgent = await h.request('POST', participants(conv), 'bob', { participant_id: 'erin', agent_id: 'echo' });
    expect([humanWithAgent.status, humanWithAgent.body.error]).toEqual([400, 'GATEWAY_ERR_BAD_REQUEST']);
    const noId = await h.request('POST', participants(conv), 'bob', { display_name: 'x' });
    expect([noId.status, noId.body.error]).toEqual([400, 'GATEWAY_ERR_BAD_REQUEST']);
    const again = await h.request('POST', participants(conv), 'bob', { participant_id: 'alice' });
    expect(again.status).toBe(200);
    expect(again.body.participant).toMatchObject({ participant_id: 'alice', role: 'owner' });
    expect(await history(h, conv)).toEqual(before);

    expect((await h.request('POST', participants(conv), 'bob', { participant_id: 'carol' })).status).toBe(200);
    const full = await h.request('POST', participants(conv), 'bob', { participant_id: 'dave' });
    expect([full.status, full.body.error]).toEqual([409, 'CHAT_ERR_PARTICIPANT_LIMIT']);
    expect(await memberIds(h, conv)).toEqual(['alice', 'bob', 'carol', 'echo']);
  });
});

describe('DELETE …/participants/{participant_id}: the owner removes a member', () => {
  test("the removed human's socket gets the leave record (removed_by) and participant_update, then close 4003; it can no longer post", async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const alice = await h.connect(conv, 'alice');
    const bob = await h.connect(conv, 'bob');
    await bob.waitFor('participant_list');

    const removed = await h.request('DELETE', `${participants(conv)}/bob`, 'alice');
    expect(removed.status).toBe(200);
    expect(removed.body).toEqual({ conversation_id: conv, participant_id: 'bob', removed: true, removed_by: 'alice' });

    const leave = await bob.waitFor('message', (f) => f.message.message_type === 'leave');
    expect(leave.message).toMatchObject({ sender_id: 'bob', metadata: { removed_by: 'alice', participant: { participant_id: 'bob' } } });
    expect(await bob.waitFor('participant_update', (f) => f.action === 'leave')).toMatchObject({ participant: { participant_id: 'bob' } });
    expect((await bob.closed).code).toBe(4003);
    await alice.waitFor('participant_update', (f) => f.action === 'leave' && f.participant.participant_id === 'bob');

    const post = await h.request('POST', `/chat/conversations/${conv}/messages`, 'bob', { message_id: 'b1', content: 'still here?' });
    expect([post.status, post.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
    expect(await memberIds(h, conv)).toEqual(['alice']);
  });

  test("the removed human's event stream (GET …/events) gets the leave record, then closed 4003 with no reconnect", async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    const answer = await openEvents(`${h.url}/chat/conversations/${conv}/events?token=${h.token('bob')}`);
    const stream = answer.stream!;
    await stream.next((e) => e.event === 'participant_list');
    expect((await h.request('DELETE', `${participants(conv)}/bob`, 'alice')).status).toBe(200);
    await stream.ended;
    const leave = stream
      .ofType('message')
      .map((e) => e.json.message)
      .find((m) => m.message_type === 'leave');
    expect(leave).toMatchObject({ sender_id: 'bob', metadata: { removed_by: 'alice' } });
    expect(stream.events.at(-1)!.json).toMatchObject({
      type: 'closed',
      error: 'CHAT_ERR_NOT_PARTICIPANT',
      close_code: 4003,
      reconnect: false,
    });
    const again = await openEvents(`${h.url}/chat/conversations/${conv}/events?token=${h.token('bob')}`);
    expect([again.status, again.stream]).toEqual([403, undefined]);
  });

  test('a member who is not the owner: 403 CHAT_ERR_FORBIDDEN; an unknown id: 404 CHAT_ERR_PARTICIPANT_NOT_FOUND; oneself: a leave', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob', 'carol']);
    const before = await history(h, conv);

    const byMember = await h.request('DELETE', `${participants(conv)}/carol`, 'bob');
    expect([byMember.status, byMember.body.error]).toEqual([403, 'CHAT_ERR_FORBIDDEN']);
    expect(byMember.body.message).toBe('only the owner may remove another member');
    const byOutsider = await h.request('DELETE', `${participants(conv)}/carol`, 'mallory');
    expect([byOutsider.status, byOutsider.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
    const unknown = await h.request('DELETE', `${participants(conv)}/nobody`, 'alice');
    expect([unknown.status, unknown.body.error]).toEqual([404, 'CHAT_ERR_PARTICIPANT_NOT_FOUND']);
    const noConversation = await h.request('DELETE', `${participants('no-such-conversation')}/bob`, 'alice');
    expect([noConversation.status, noConversation.body.error]).toEqual([404, 'CHAT_ERR_NOT_FOUND']);
    expect(await history(h, conv)).toEqual(before);
    expect(await memberIds(h, conv)).toEqual(['alice', 'bob', 'carol']);

    const self = await h.request('DELETE', `${participants(conv)}/carol`, 'carol');
    expect(self.status).toBe(200);
    expect(self.body).toEqual({ conversation_id: conv, participant_id: 'carol', left: true });
    const leave = (await history(h, conv)).find((m) => m.message_type === 'leave');
    expect(leave?.metadata).not.toHaveProperty('removed_by');
    expect(await memberIds(h, conv)).toEqual(['alice', 'bob']);
  });

  test('a member whose id is literally "me": …/participants/me is the caller (a leave), …/participants/%6De removes it', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice', ['bob']);
    expect((await h.request('POST', participants(conv), 'bob', { participant_id: 'me' })).status).toBe(200);
    const removed = await h.request('DELETE', `${participants(conv)}/%6De`, 'alice');
    expect(removed.body).toEqual({ conversation_id: conv, participant_id: 'me', removed: true, removed_by: 'alice' });
    expect(await memberIds(h, conv)).toEqual(['alice', 'bob']);
    const left = await h.request('DELETE', `${participants(conv)}/me`, 'bob');
    expect(left.body).toEqual({ conversation_id: conv, participant_id: 'bob', left: true });
  });

  test('removing an AI agent cancels its running job and it answers nothing more', async () => {
    const started: string[] = [];
    const aborts: string[] = [];
    const h = await startHarness({}, { agents: [blockingAgent(started, aborts), createEchoAgent()] });
    const conv = await h.createConversation('alice', [], { agents: ['slow', 'echo'] });
    const alice = await h.connect(conv, 'alice');
    alice.send({ type: 'message', message_id: 'a1', content: 'first' });
    await alice.waitFor('message', (f) => f.message.sender_id === 'echo' && f.message.content.includes('first'));
    await turnsUntil(() => started.length === 1);

    expect((await h.request('DELETE', `${participants(conv)}/slow`, 'alice')).status).toBe(200);
    await alice.waitFor('participant_update', (f) => f.action === 'leave' && f.participant.participant_id === 'slow');
    await turnsUntil(() => aborts.length === 1);
    expect(aborts).toEqual(['participant left']);

    alice.send({ type: 'message', message_id: 'a2', content: 'second' });
    await alice.waitFor('message', (f) => f.message.sender_id === 'echo' && f.message.content.includes('second'));
    // The echo answered `second`; the removed agent was never handed it.
    expect(started).toEqual(['a1']);
    expect(aborts).toEqual(['participant left']);
  });

  test('adds and removals spend the caller’s membership budget: 429 past it, audited per route, not per removed id', async () => {
    const clock = createManualClock();
    const captured = captureAudit(() => clock.now());
    const h = await startHarness(
      { chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 3 } } },
      { clock, ...captured.harnessOptions },
    );
    const conv = await h.createConversation('alice');
    expect((await h.request('POST', participants(conv), 'alice', { participant_id: 'bob' })).status).toBe(200);
    expect((await h.request('POST', participants(conv), 'alice', { participant_id: 'carol' })).status).toBe(200);
    expect((await h.request('DELETE', `${participants(conv)}/bob`, 'alice')).status).toBe(200);
    for (const [method, p, body] of [
      ['POST', participants(conv), { participant_id: 'dave' }],
      ['DELETE', `${participants(conv)}/carol`, undefined],
      ['DELETE', `${participants(conv)}/erin`, undefined],
    ] as const) {
      const refused = await h.request(method, p, 'alice', body);
      expect([refused.status, refused.body.error, refused.headers.get('retry-after')]).toEqual([429, 'GATEWAY_ERR_RATE_LIMITED', '1']);
    }
    expect(await memberIds(h, conv)).toEqual(['alice', 'carol']);
    // carol's budget is her own.
    expect((await h.request('POST', participants(conv), 'carol', { participant_id: 'dave' })).status).toBe(200);
    expect(captured.events('rate_limit.hit')).toEqual([
      ['alice', conv, { action: 'POST /chat/conversations/{id}/participants', suppressed: 0 }],
      ['alice', conv, { action: 'DELETE /chat/conversations/{id}/participants/{participant_id}', suppressed: 0 }],
    ]);
    clock.advance(1000);
    expect((await h.request('DELETE', `${participants(conv)}/carol`, 'alice')).status).toBe(200);
  });
});

describe('a removal on SQLite', () => {
  let dir: string;
  beforeAll(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nlweb-chat-member-removal-'))));
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  test('survives a restart: the member stays removed, the leave record keeps removed_by, the removed user is refused', async () => {
    const file = path.join(dir, 'chat.db');
    const first = await startHarness({}, { store: new SqliteStore({ path: file }) });
    const conv = await first.createConversation('alice', ['bob']);
    expect((await first.request('POST', participants(conv), 'bob', { participant_id: 'carol' })).status).toBe(200);
    expect((await first.request('DELETE', `${participants(conv)}/bob`, 'alice')).status).toBe(200);
    await first.close();

    const second = await startHarness({}, { store: new SqliteStore({ path: file }) });
    expect(await memberIds(second, conv)).toEqual(['alice', 'carol']);
    const records = await history(second, conv);
    expect(records.find((m) => m.message_type === 'leave')?.metadata).toMatchObject({ removed_by: 'alice' });
    expect(records.find((m) => m.message_type === 'join' && m.sender_id === 'carol')?.metadata).toMatchObject({ added_by: 'bob' });
    const refused = await second.request('GET', `/chat/conversations/${conv}`, 'bob');
    expect([refused.status, refused.body.error]).toEqual([403, 'CHAT_ERR_NOT_PARTICIPANT']);
  });
});
