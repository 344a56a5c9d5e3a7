import { createAgentsFromConfig } from '../../actors/agents/create-agents-from-config';
import { validateConfig } from '../../config/load-config';
import { collect, createHarness } from './standin-harness';
import { turn } from './turn-fixtures';

const h = createHarness();
afterEach(() => h.closeAll());

function config(endpoints: unknown[], timeoutS = 10) {
  return validateConfig({ chat: { nlweb: { endpoints }, context: { nlweb_timeout: timeoutS }, agents: { on_no_answer: 'note' } } });
}

describe('createAgentsFromConfig', () => {
  it('creates one agent per endpoint, resolving "standin" to the stand-in url', async () => {
    const server = await h.standin();
    const other = await h.standin({ style: 'legacy' });
    const agents = createAgentsFromConfig(
      config([
        { id: 'recipes', display_name: 'Recipes', url: 'standin', site: 'recipes.example.org', mode: 'summarize' },
        { id: 'gear', url: other.url, streaming: false },
      ]),
      { standinUrl: server.url },
    );
    try {
      expect([...agents.keys()]).toEqual(['recipes', 'gear']);
      expect(agents.get('recipes')!.displayName).toBe('Recipes');
      // Without display_name an endpoint is shown by its id, as createNlwebAgent does (was "NLWeb" for every one).
      expect(agents.get('gear')!.displayName).toBe('gear');
      const out = await collect(agents.get('recipes')!, turn('oats'));
      expect(out[0]!.metadata!.endpoint).toBe('recipes');
      expect(server.requests[0]!.params).toMatchObject({ site: 'recipes.example.org', mode: 'summarize' });
      await collect(agents.get('gear')!, turn('tent'));
      expect(other.requests).toHaveLength(1);
      // streaming: false asks for one JSON answer instead of an event stream.
      expect(other.requests[0]!.headers.accept).toBe('application/json');
      expect(server.requests[0]!.headers.accept).toBe('text/event-stream');
    } finally {
      for (const a of agents.values()) a.close();
    }
  });

  it('takes the timeout from chat.context.nlweb_timeout and the no-answer policy from chat.agents', async () => {
    const server = await h.standin();
    const patient = createAgentsFromConfig(config([{ id: 'nlweb', url: server.url }]));
    const hasty = createAgentsFromConfig(config([{ id: 'nlweb', url: server.url }], 0.05));
    try {
      server.setBehaviour('no-results');
      const noted = await collect(patient.get('nlweb')!, turn('oats'));
      expect(noted[0]!.metadata!.no_answer).toBe('no_results');
      server.setBehaviour('hang');
      await expect(collect(hasty.get('nlweb')!, turn('oats'))).rejects.toMatchObject({
        code: 'AGENT_ERR_TIMEOUT',
        details: { timeout_ms: 50 },
      });
    } finally {
      for (const a of [...patient.values(), ...hasty.values()]) a.close();
    }
  });

  it('refuses "standin" without a stand-in url, naming the endpoint and the option', () => {
    expect(() => createAgentsFromConfig(config([{ id: 'nlweb', url: 'standin' }]))).toThrow(
      expect.objectContaining({
        code: 'CONFIG_ERR_INVALID',
        details: { problems: [{ path: 'chat.nlweb.endpoints[0].url', message: expect.stringMatching(/endpoint "nlweb".*standinUrl/) }] },
      }),
    );
  });

  it('refuses duplicate ids and non-http urls', () => {
    expect(() =>
      createAgentsFromConfig(
        config([
          { id: 'a', url: 'http://127.0.0.1:1' },
          { id: 'a', url: 'http://127.0.0.1:2' },
        ]),
      ),
    ).toThrow(expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }));
    expect(() => createAgentsFromConfig(config([{ id: 'a', url: 'ftp://example.org' }]))).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }),
    );
    expect(() => createAgentsFromConfig(config([{ id: 'a', url: 'not a url' }]))).toThrow(
      expect.objectContaining({ code: 'CONFIG_ERR_INVALID' }),
    );
  });

  it('no endpoints, no agents', () => {
    expect(createAgentsFromConfig(config([])).size).toBe(0);
  });
});
