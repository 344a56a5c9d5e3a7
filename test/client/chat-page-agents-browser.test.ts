/**
 * "Add agent" on the chat page offers the server's agents (GET /chat/agents) by their configured names: a member
 * who is not the owner picks the NLWeb agent from the list, the page adds it under its own id and name (the only
 * ones the server lets such a member use), the add cannot be sent twice while in flight, and the agent answers the
 * member's next message. The real NLWeb agent against the NLWeb stand-in (testing/), Chromium against the real
 * server (dev auth). Chromium: ./chromium.ts.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { standinAgents } from './standin-agents';

const maybe = browserTest('chat-page-agents-browser.test');
const session = pageSessions();

const nlweb = standinAgents();

maybe(
  'alice, a member, adds the stand-in agent from the list (one request, buttons disabled meanwhile) and it answers her',
  async () => {
    const standin = await nlweb.standin({ latencyMs: 0, batches: 1 });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb Recipes' });
    const { stack, browser, origin } = await session({ agents: [agent] });
    // Bob owns the conversation; alice is a member, held to the rule on added agents' names.
    const created = await fetch(`${origin}/chat/conversations`, {
      method: 'POST',
      headers: { 'X-User-Id': 'bob', 'Content-Type': 'application/json' },
      body: JSON.stringify({
        conversation_id: 'dinner',
        title: 'dinner',
        participants: [{ participant_id: 'alice' }],
        auto_join_agents: false,
      }),
    });
    expect(created.status).toBe(201);

    const alice = await browser.newPage();
    const errors = collectErrors(alice);
    const adds: string[] = [];
    alice.on('request', (req) => {
      if (req.method() === 'POST' && new URL(req.url()).pathname.endsWith('/participants')) adds.push(req.postData() ?? '');
    });
    await alice.goto(`${origin}/?user_id=alice&conversation=dinner`);
    await alice.waitForSelector('#state[data-state="open"]');

    // The list is asked when the choice is first used, and shows the agent by its configured name.
    await alice.click('#add-agent-id');
    await alice.waitForSelector('#add-agent-id option[value="nlweb"]', { state: 'attached' });
    expect(await alice.$$eval('#add-agent-id option', (os) => os.map((o) => [(o as HTMLOptionElement).value, o.textContent]))).toEqual([
      ['', 'Choose an agent'],
      ['nlweb', 'NLWeb Recipes'],
    ]);
    await alice.selectOption('#add-agent-id', 'nlweb');

    // The add is held at the network until the test lets it through: meanwhile both buttons are disabled and a
    // second submit of the form sends nothing.
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    await alice.route('**/chat/conversations/dinner/participants*', async (route) => {
      await held;
      await route.continue();
    });
    await alice.click('#add-agent');
    await alice.waitForSelector('#add-agent:disabled');
    expect(await alice.isDisabled('#add-person')).toBe(true);
    await alice.evaluate(() => {
      const form = document.getElementById('add-member-form') as HTMLFormElement;
      form.requestSubmit(document.getElementById('add-agent') as HTMLButtonElement);
    });
    release();
    await alice.waitForSelector('#participant-list li[data-id="nlweb"]');
    await alice.waitForSelector('#messages li.system:has-text("NLWeb Recipes joined (added by alice)")');
    await alice.waitForSelector('#add-agent:enabled');
    expect(adds.map((body) => JSON.parse(body))).toEqual([{ participant_id: 'nlweb', participant_type: 'ai' }]);
    expect(await alice.textContent('#errors')).toBe('');
    expect(await alice.inputValue('#add-agent-id')).toBe('');

    await alice.fill('#input', 'vegetarian dinner ideas?');
    await alice.press('#input', 'Enter');
    await alice.waitForSelector('#messages li.ai a');
    const stored = await stack.runtime.readMessages('dinner', 0, 100);
    expect(stored.some((m) => m.sender_id === 'nlweb' && m.message_type === 'nlweb_response')).toBe(true);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'the owner pressing remove again while the removal is in flight sends one DELETE',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['bob', 'alice']);
    const bob = await browser.newPage();
    const errors = collectErrors(bob);
    bob.on('dialog', (d) => void d.accept());
    const removals: string[] = [];
    bob.on('request', (req) => {
      if (req.method() === 'DELETE') removals.push(new URL(req.url()).pathname);
    });
    await bob.goto(`${origin}/?user_id=bob&conversation=trip`);
    await bob.waitForSelector('#state[data-state="open"]');
    let release!: () => void;
    const held = new Promise<void>((resolve) => (release = resolve));
    let reached!: () => void;
    const atServer = new Promise<void>((resolve) => (reached = resolve));
    await bob.route('**/chat/conversations/trip/participants/alice*', async (route) => {
      reached();
      await held;
      await route.continue();
    });
    await bob.click('#participant-list li[data-id="alice"] .remove-member');
    await atServer;
    await bob.click('#participant-list li[data-id="alice"] .remove-member');
    release();
    await bob.waitForSelector('#participant-list li[data-id="alice"]', { state: 'detached' });
    expect(removals).toEqual(['/chat/conversations/trip/participants/alice']);
    expect(errors).toEqual([]);
  },
  60_000,
);
