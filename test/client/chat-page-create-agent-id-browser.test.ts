/**
 * The create form refuses an agent's id under "Other people" before creating: the server would make a person of
 * that id, who shadows the agent, and the conversation would get no AI and no word why (found by a new-user audit:
 * `nlweb` typed as a person). The page knows the server's agents from GET /chat/agents, asked once, at the first
 * create that names other people. Chromium against the real server (dev auth). Chromium: ./chromium.ts.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { steppedAgent } from './stepped-agent';

const maybe = browserTest('chat-page-create-agent-id-browser.test');
const session = pageSessions();

const refusal = (typed: string): string =>
  `"${typed}" is an AI agent on this server (NLWeb), not a person. Take it out of "Other people" and add it as an agent: ` +
  'write nlweb under "Agents", or keep "add configured agents" checked.';

maybe(
  'an agent id under "Other people" is refused on the page with a sentence, nothing is created; without it the create goes',
  async () => {
    const { stack, browser, origin } = await session({ agents: [steppedAgent(['hello'])] });
    const page = await browser.newPage();
    const errors = collectErrors(page);
    const sent: string[] = [];
    page.on('request', (req) => {
      const path = new URL(req.url()).pathname;
      if (path.startsWith('/chat/')) sent.push(`${req.method()} ${path}`);
    });
    await page.goto(`${origin}/?user_id=alice`);
    await page.waitForSelector('#create-form');

    await page.fill('#create-humans', 'bob, nlweb');
    await page.click('#create-button');
    await page.waitForFunction(() => document.querySelector('#errors')?.textContent !== '');
    expect(await page.textContent('#errors')).toBe(refusal('nlweb'));
    // The form keeps what was typed, to fix.
    expect(await page.inputValue('#create-humans')).toBe('bob, nlweb');

    // Typed in another case it is still the agent; the listing is not asked again.
    await page.fill('#create-humans', 'NLWeb');
    await page.click('#create-button');
    await page.waitForFunction((old) => document.querySelector('#errors')?.textContent !== old, refusal('nlweb'));
    expect(await page.textContent('#errors')).toBe(refusal('NLWeb'));

    // As the sentence says: the agent under "Agents".
    await page.fill('#create-humans', 'bob');
    await page.fill('#create-agents', 'nlweb');
    await page.click('#create-button');
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#participant-list li[data-id="nlweb"]');
    expect(await page.textContent('#errors')).toBe('');
    const [conversation] = await stack.runtime.listConversations('alice');
    const members = (await stack.runtime.getConversation(conversation!.conversation_id)).participants;
    expect(members.map((p) => [p.participant_id, p.participant_type])).toEqual([
      ['alice', 'human'],
      ['bob', 'human'],
      ['nlweb', 'ai'],
    ]);
    expect(sent.filter((s) => s === 'GET /chat/agents')).toHaveLength(1);
    expect(sent.filter((s) => s === 'POST /chat/conversations')).toHaveLength(1);
    expect(errors).toEqual([]);
  },
  60_000,
);
