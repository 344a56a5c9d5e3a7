/**
 * GET /chat/conversations/{id}/messages with a query parameter given twice (`?after=1&after=2`) says so: it used to
 * answer "after must be a non-negative integer" for two integers. Real server on port 0.
 */
import { closeAll, startHarness } from './harness';

afterEach(closeAll);

test('a repeated after, before or limit: 400 naming the repeat', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  for (const name of ['after', 'before', 'limit']) {
    const answer = await h.request('GET', `/chat/conversations/${conv}/messages?${name}=1&${name}=2`, 'alice');
    expect([name, answer.status, answer.body]).toEqual([
      name,
      400,
      { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message: `${name} is given more than once` },
    ]);
  }
  expect((await h.request('GET', `/chat/conversations/${conv}/messages?after=0&limit=2`, 'alice')).status).toBe(200);
});

test('a value out of range says what would be accepted, whatever way it misses (limit=abc said "non-negative integer")', async () => {
  const h = await startHarness();
  const conv = await h.createConversation('alice');
  const cases: Array<[string, string]> = [
    ['limit=abc', 'limit must be an integer from 1 to 500'],
    ['limit=0', 'limit must be an integer from 1 to 500'],
    ['limit=501', 'limit must be an integer from 1 to 500'],
    ['limit=-1', 'limit must be an integer from 1 to 500'],
    ['after=x', 'after must be a non-negative integer'],
    ['before=0', 'before must be an integer of at least 1'],
  ];
  for (const [query, message] of cases) {
    const answer = await h.request('GET', `/chat/conversations/${conv}/messages?${query}`, 'alice');
    expect([query, answer.status, answer.body]).toEqual([query, 400, { error: 'GATEWAY_ERR_BAD_REQUEST', code: 400, message }]);
  }
});
