/**
 * The chat page's "NLWeb is answering" line shows while the agent answers and goes when the record that ends its job
 * arrives (docs/protocol.md, Agent jobs): the answer's completion marker, the "has no answer" record, a failure or a
 * cancellation; a reloaded page never shows it for a job that ended. Regression: the line stayed under every
 * finished answer (found by a new-user audit). The real NLWeb agent against the NLWeb stand-in (testing/), whose
 * batches the test releases with a manual clock, and Chromium against the real server (dev auth).
 * Chromium: ./chromium.ts.
 */
import type { Page } from 'playwright-core';
import { createManualClock } from '../../actors/clock';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';
import { standinAgents } from './standin-agents';

const maybe = browserTest('chat-page-answering-browser.test');
const session = pageSessions();

const nlweb = standinAgents();

const ANSWERING = '#messages li.system:text-is("NLWeb is answering")';

/** The "is answering" lines a person sees (hidden ones are not read). */
const answeringShown = (page: Page): Promise<number> => page.locator(`${ANSWERING}:visible`).count();

async function ask(page: Page, question: string): Promise<void> {
  await page.fill('#input', question);
  await page.press('#input', 'Enter');
}

maybe(
  'the "is answering" line goes when the answer completes, and a reloaded page does not show it',
  async () => {
    const clock = createManualClock();
    // The one batch of results at 100 ms, the end message 100 ms later in a write of its own: the answer's
    // completion is an empty record of its own, which shows nothing.
    const standin = await nlweb.standin({ latencyMs: 100, batches: 1, endDelayMs: 100, clock });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb' });
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    await ask(page, 'vegetarian dinner ideas?');
    await standin.waitForRequest(0);
    await page.waitForSelector(`${ANSWERING}:visible`);

    clock.advance(100);
    await page.waitForSelector('#messages li.ai .piece');
    // Results are in, the answer is not complete yet: still answering.
    expect(await answeringShown(page)).toBe(1);

    clock.advance(100);
    await page.waitForSelector(ANSWERING, { state: 'hidden' });
    expect(await answeringShown(page)).toBe(0);

    await page.reload();
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#messages li.ai .piece');
    await page.waitForSelector(ANSWERING, { state: 'attached' });
    expect(await answeringShown(page)).toBe(0);
    expect(errors).toEqual([]);
  },
  60_000,
);

maybe(
  'the "is answering" line goes when the agent has no answer, fails, or is cancelled',
  async () => {
    const standin = await nlweb.standin({ latencyMs: 0, batches: 1 });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb' });
    const { stack, browser, origin } = await session({ agents: [agent] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    const page = await browser.newPage();
    await page.goto(`${origin}/?user_id=alice&conversation=conv`);
    await page.waitForSelector('#state[data-state="open"]');

    standin.setBehaviour('no-results');
    await ask(page, 'anything about volcanoes?');
    await page.waitForSelector('#messages li.system:has-text("NLWeb has no answer")');
    expect(await answeringShown(page)).toBe(0);

    standin.setBehaviour('nlweb-error');
    await ask(page, 'and about glaciers?');
    await page.waitForSelector('#messages li.system:has-text("NLWeb could not answer")');
    expect(await answeringShown(page)).toBe(0);

    // The stand-in never answers; the agent leaving cancels its job.
    standin.setBehaviour('hang');
    await ask(page, 'and about deserts?');
    await standin.waitForRequest(2);
    await page.waitForSelector(`${ANSWERING}:visible`);
    await stack.runtime.leave('conv', 'nlweb');
    await page.waitForSelector('#messages li.system:has-text("NLWeb stopped answering")');
    expect(await answeringShown(page)).toBe(0);
    expect(await page.locator(ANSWERING).count()).toBe(3);
  },
  60_000,
);

maybe(
  'when nothing matches, the page says what the stand-in said (its hint of what to try), as text, silent or noted',
  async () => {
    const standin = await nlweb.standin({ latencyMs: 0, batches: 1 });
    const agent = nlweb.agent(standin, { id: 'nlweb', displayName: 'NLWeb' });
    const noting = nlweb.agent(standin, { id: 'noter', displayName: 'Noter', onNoAnswer: 'note' });
    const { stack, browser, origin } = await session({ agents: [agent, noting] });
    await stack.createConversation('conv', ['alice'], ['nlweb']);
    await stack.createConversation('noted', ['alice'], ['noter']);
    const page = await browser.newPage();
    const errors = collectErrors(page);
    const hint = (query: string): string =>
      `No results were found for "${query}". This NLWeb stand-in knows only its 12 bundled items (recipes.example.org, gear.example.org): try "vegetarian" or "tent".`;
    try {
      await page.goto(`${origin}/?user_id=alice&conversation=conv`);
      await page.waitForSelector('#state[data-state="open"]');
      // Markup in the question comes back in the hint: still text.
      const query = 'quantum <b>chromodynamics</b>';
      await ask(page, query);
      const line = await page.waitForSelector('#messages li.system:has-text("NLWeb has no answer")');
      expect(await line.textContent()).toBe(`NLWeb has no answer (no results). ${hint(query)}`);
      expect(await page.locator('#messages b').count()).toBe(0);

      await page.goto(`${origin}/?user_id=alice&conversation=noted`);
      await page.waitForSelector('#state[data-state="open"]');
      await ask(page, 'volcanoes');
      const note = await page.waitForSelector('#messages li.ai .piece');
      expect(await note.textContent()).toBe(`Noter has no answer (no results). ${hint('volcanoes')}`);
      expect(errors).toEqual([]);
    } finally {
      noting.close();
    }
  },
  60_000,
);
