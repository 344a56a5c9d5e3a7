/**
 * The chat page's agent list (client/web/agent-choice.ts) refused: a 429 from the read budget is said as a read
 * limit with its wait (not the message budget's "sending too fast"), and once a later open lists the agents the
 * list's own error is cleared. The real server (dev auth) in Chromium; the refusal is the route's answer.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { standinAgents } from './standin-agents';

const maybe = browserTest('agent-choice-refusals-browser.test');
const session = pageSessions();

const nlweb = standinAgents();

maybe(
  'a 429 on GET /chat/agents is said as the read limit with its wait; the next open lists and clears that error',
  async () => {
    const standin = await nlweb.standin({ latencyMs: 0, batches: 1 });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb Recipes' });
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
