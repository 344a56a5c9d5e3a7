/**
 * The chat page's agent list (client/web/agent-choice.ts) refused: a 429 from the read budget is said as a read
 * limit with its wait (not the message budget's "sending too fast"), and once a later open lists the agents the
 * list's own error is cleared. The real server (dev auth) in Chromium; the refusal is the route's answer.
 */
import { createNlwebAgent, type NlwebAgent } from '../../actors/agents/nlweb-agent';
import { createNlwebStandinServer, type NlwebStandinServer } from '../../testing/nlweb-standin-server';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('agent-choice-refusals-browser.test');
const session = pageSessions();

let standin: NlwebStandinServer | undefined;
let agent: NlwebAgent | undefined;
afterEach(async () => {
  agent?.close();
  await standin?.close();
  agent = undefined;
  standin = undefined;
});

maybe(
  'a 429 on GET /chat/agents is said as the read limit with its wait; the next open lists and clears that error',
  async () => {
    standin = await createNlwebStandinServer({ latencyMs: 0, batches: 1 });
    agent = createNlwebAgent({ id: 'nlweb', displayName: 'NLWeb Recipes', baseUrl: standin.url, timeoutMs: 5000 });
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('trip', ['bob', 'alice']);
    const bob = await browser.newPage();
    const errors = collectErrors(bob);
    let refused = 0;
    await bob.route('**/chat/agents*', async (route) => {
      if (refused > 0) return route.continue();
      refused++;
      await route.fulfill({
        status: 429,
        headers: { 'Retry-After': '7' },
        contentType: 'application/json',
        body: JSON.stringify({ error: 'GATEWAY_ERR_RATE_LIMITED', message: 'read budget' }),
      });
    });
    await bob.goto(`${origin}/?user_id=bob&conversation=trip`);
    await bob.waitForSelector('#state[data-state="open"]');

    await bob.focus('#add-agent-id');
    await bob.waitForFunction(() => (document.getElementById('errors')?.textContent ?? '') !== '');
    const said = (await bob.textContent('#errors')) ?? '';
    expect(said).toContain('Could not list the agents.');
    expect(said).toContain('limiting how often this page may read');
    expect(said).toContain('7 s');
    expect(said).not.toContain('sending too fast');

    // Asked again at the next focus: listed, and the list's own error line is cleared.
    await bob.focus('#add-member-id');
    await bob.focus('#add-agent-id');
    await bob.waitForSelector('#add-agent-id option[value="nlweb"]', { state: 'attached' });
    expect(await bob.textContent('#errors')).toBe('');
    expect(refused).toBe(1);
    // Chromium logs the refused request itself; nothing else.
    expect(errors).toEqual(['Failed to load resource: the server responded with a status of 429 (Too Many Requests)']);
  },
  60_000,
);
