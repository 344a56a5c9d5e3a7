/**
 * GET /chat/agents (docs/http-api.md): what a client shows before adding an agent or creating a conversation with
 * one. The NLWeb endpoint of the config (the stand-in, on a real port) and an embedder's own agent are listed by id
 * and configured name; the endpoint's URL and site never are. Real server on port 0 (jwt auth), real fetch.
 */
import { createEchoAgent } from '../../actors/agents/echo-agent';
import { createManualClock } from '../../actors/clock';
import { createNlwebStandinServer, type NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { closeAll, startHarness, type Harness } from './harness';

let standin: NlwebStandinServer | undefined;
afterEach(async () => {
  await closeAll();
  await standin?.close();
  standin = undefined;
});

async function listingHarness(limits: { reads_per_second?: number; reads_burst?: number } = {}): Promise<Harness> {
  standin = await createNlwebStandinServer({ latencyMs: 0, batches: 1 });
  return startHarness(
    {
      chat: {
        limits,
        nlweb: {
          endpoints: [{ id: 'recipes', display_name: 'Recipe Finder', url: standin.url, site: 'secret-site.example', auto_join: true }],
          standin: { enabled: false },
        },
      },
    },
    // A clock that stands still: the read budget refills only when the test says.
    { agents: [createEchoAgent()], clock: createManualClock() },
  );
}

describe('GET /chat/agents', () => {
  test('lists the configured endpoint and the embedder’s agent by id and name, whether each auto-joins, no URL', async () => {
    const h = await listingHarness();
    const res = await h.request('GET', '/chat/agents', 'alice');
    expect(res.status).toBe(200);
    const echo = createEchoAgent();
    expect(res.body).toEqual({
      agents: [
        { agent_id: 'echo', display_name: echo.displayName, auto_join: false },
        { agent_id: 'recipes', display_name: 'Recipe Finder', auto_join: true },
      ],
    });
    const text = JSON.stringify(res.body);
    expect(text).not.toContain(standin!.url);
    expect(text).not.toContain('127.0.0.1');
    expect(text).not.toContain('secret-site');
    // What it lists is what an add accepts: the listed id and name, added by a member who is not the owner.
    const id = await h.createConversation('alice', ['bob'], { auto_join_agents: false });
    const recipes = res.body.agents[1];
    const added = await h.request('POST', `/chat/conversations/${id}/participants`, 'bob', {
      participant_id: recipes.agent_id,
      participant_type: 'ai',
      display_name: recipes.display_name,
    });
    expect(added.status).toBe(200);
  });

  test('401 GATEWAY_ERR_UNAUTHENTICATED without credentials; 405 for another method', async () => {
    const h = await listingHarness();
    const res = await h.request('GET', '/chat/agents');
    expect(res.status).toBe(401);
    expect(res.body.error).toBe('GATEWAY_ERR_UNAUTHENTICATED');
    const post = await h.request('POST', '/chat/agents', 'alice', {});
    expect([post.status, post.body.error, post.headers.get('allow')]).toEqual([405, 'GATEWAY_ERR_METHOD_NOT_ALLOWED', 'GET, HEAD']);
  });

  test('spends the caller’s read budget: 429 GATEWAY_ERR_RATE_LIMITED past the burst', async () => {
    const h = await listingHarness({ reads_per_second: 1, reads_burst: 2 });
    const statuses: number[] = [];
    for (let i = 0; i < 3; i += 1) statuses.push((await h.request('GET', '/chat/agents', 'alice')).status);
    expect(statuses).toEqual([200, 200, 429]);
    const refused = await h.request('GET', '/chat/agents', 'alice');
    expect(refused.body.error).toBe('GATEWAY_ERR_RATE_LIMITED');
    // Bob's budget is his own.
    expect((await h.request('GET', '/chat/agents', 'bob')).status).toBe(200);
  });
});
