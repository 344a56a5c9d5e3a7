/**
 * One rule per kind of input, whichever door it comes in by. Integers in query values: written plainly (no leading
 * zeros), up to Number.MAX_SAFE_INTEGER, as a `sync` frame takes them; an empty `?limit=` or `?after=` is refused,
 * not the default. Titles and display names refuse control characters as message content does. POST …/join and
 * …/leave take no fields. Real server on port 0, real `ws` clients.
 */
import { closeAll, invalidFrames, startHarness } from './harness';
import { closeReaders, openEvents } from './sse-test-client';
import { refusedAnswer } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeReaders();
  await closeAll();
  expect(invalid).toEqual([]);
});

const MAX = String(Number.MAX_SAFE_INTEGER);
const badRequest = (message: string) => ({ error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message });

describe('integers in query values', () => {
  test('the socket URL: last_sequence_id up to MAX_SAFE_INTEGER as sync takes it; leading zeros refused as protocol_version', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const alice = await h.connect(conv, 'alice', { last_sequence_id: MAX });
    expect(alice.frames[0]).toMatchObject({ type: 'connected' });
    // The same resume point in a sync frame: taken too (the sync_complete answers it).
    alice.send({ type: 'sync', last_sequence_id: Number.MAX_SAFE_INTEGER });
    await alice.waitFor('sync_complete');
    for (const value of ['9007199254740992', '01', '00', '+1', '1e3', '']) {
      expect([value, await refusedAnswer(h.wsUrl(conv, 'alice', { last_sequence_id: value }))]).toEqual([
        value,
        { status: 400, body: badRequest('last_sequence_id must be a non-negative integer') },
      ]);
    }
    expect(await refusedAnswer(h.wsUrl(conv, 'alice', { history: '05' }))).toMatchObject({ status: 400 });
    expect(await refusedAnswer(h.wsUrl(conv, 'alice', { protocol_version: '01' }))).toMatchObject({ status: 400 });
    const zero = await h.connect(conv, 'alice', { last_sequence_id: '0' });
    expect(zero.frames[0]).toMatchObject({ type: 'connected' });
  });

  test('HTTP after/before/limit: the same rule, and an empty value is refused naming the parameter', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const get = (query: string) => h.request('GET', `/chat/conversations/${conv}/messages?${query}`, 'alice');
    expect((await get(`after=${MAX}`)).status).toBe(200);
    expect((await get(`before=${MAX}`)).status).toBe(200);
    const cases: Array<[string, string]> = [
      ['after=01', 'after must be a non-negative integer'],
      ['after=9007199254740992', 'after must be a non-negative integer'],
      ['limit=05', 'limit must be an integer from 1 to 500'],
      ['before=007', 'before must be an integer of at least 1'],
      ['after=', 'after is empty: give a non-negative integer or leave it out'],
      ['limit=', 'limit is empty: give an integer from 1 to 500 or leave it out'],
      ['before=', 'before is empty: give an integer of at least 1 or leave it out'],
    ];
    for (const [query, message] of cases) {
      const answer = await get(query);
      expect([query, answer.status, answer.body]).toEqual([query, 400, badRequest(message)]);
    }
    const list = await h.request('GET', '/chat/conversations?limit=', 'alice');
    expect([list.status, list.body]).toEqual([400, badRequest('limit is empty: give an integer from 1 to 200 or leave it out')]);
  });

  test('the SSE URL and Last-Event-ID: the same rule', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const url = (params: Record<string, string>) =>
      `${h.url}/chat/conversations/${conv}/events?${new URLSearchParams({ token: h.token('alice'), ...params })}`;
    for (const [params, headers] of [
      [{ last_sequence_id: '01' }, {}],
      [{ history: '010' }, {}],
      [{}, { 'last-event-id': '01' }],
    ] as Array<[Record<string, string>, Record<string, string>]>) {
      const answer = await openEvents(url(params), headers);
      expect([params, headers, answer.status]).toEqual([params, headers, 400]);
    }
    const ok = await openEvents(url({ last_sequence_id: MAX }));
    expect(ok.status).toBe(200);
  });
});

describe('titles and display names', () => {
  test('a control character is refused as in content (400), \\n and \\t are not', async () => {
    const h = await startHarness();
    const create = (body: Record<string, unknown>) =>
      h.request('POST', '/chat/conversations', 'alice', { auto_join_agents: false, ...body });
    const refused = await create({ title: 'a\u0007b' });
    expect([refused.status, refused.body]).toEqual([
      400,
      badRequest('title contains control characters (only \\n, \\r and \\t are allowed)'),
    ]);
    const named = await create({
      title: 't',
      participants: [{ participant_id: 'bob', participant_type: 'human', display_name: 'B\u0001b' }],
    });
    expect([named.status, named.body.message]).toEqual([
      400,
      'participants[0].display_name contains control characters (only \\n, \\r and \\t are allowed)',
    ]);
    const nlweb = await create({ title: 't', participants: [{ user_id: 'bob', name: 'B\u009bb' }] });
    expect([nlweb.status, nlweb.body.message]).toEqual([
      400,
      'participants[0].name contains control characters (only \\n, \\r and \\t are allowed)',
    ]);
    const fine = await create({ title: 'line\tone\nline two' });
    expect(fine.status).toBe(201);
    const conv = fine.body.conversation_id as string;
    const add = await h.request('POST', `/chat/conversations/${conv}/participants`, 'alice', {
      participant_id: 'bob',
      display_name: 'B\u007fb',
    });
    expect([add.status, add.body]).toEqual([
      400,
      badRequest('display_name contains control characters (only \\n, \\r and \\t are allowed)'),
    ]);
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);
  });
});

describe('POST …/join and …/leave take no fields', () => {
  test('an unexpected body field is refused as on other routes; {} and no body are taken', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    for (const path of [`/chat/conversations/${conv}/join`, `/chat/${conv}/join`, `/chat/conversations/${conv}/leave`]) {
      const answer = await h.request('POST', path, 'bob', { x: 1 });
      expect([path, answer.status, answer.body]).toEqual([path, 400, badRequest('unknown field "x"')]);
    }
    expect((await h.runtime.getConversation(conv)).participants.map((p) => p.participant_id)).toEqual(['alice']);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob', {})).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/leave`, 'bob')).status).toBe(200);
    expect((await h.request('POST', `/chat/conversations/${conv}/join`, 'bob')).status).toBe(200);
  });
});
