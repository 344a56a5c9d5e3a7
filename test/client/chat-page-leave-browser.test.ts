/**
 * The chat page's Leave goes by the server's answer: a leave past the user's membership budget
 * (chat.limits.membership_changes_per_second, on the gateway's manual clock) is said on the error line and the
 * conversation stays open, its user a member; once the budget has a change again, Leave leaves. Chromium against the
 * real server (dev auth). Chromium: ./chromium.ts.
 */
import { createManualClock } from '../../actors/clock';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-leave-browser.test');
const session = pageSessions();

maybe(
  'a refused leave is said and changes nothing on the page; the next one, allowed, leaves',
  async () => {
    const clock = createManualClock();
    const { stack, browser, origin } = await session({
      clock,
      config: { chat: { limits: { membership_changes_per_second: 1, membership_changes_burst: 1 } } },
    });
    await stack.createConversation('trip', ['alice', 'bob']);
    await stack.createConversation('elsewhere', ['carol']);
    const members = async (): Promise<string[]> =>
      (await stack.runtime.getConversation('trip')).participants.map((p) => p.participant_id).sort();
    // Alice spends her one membership change elsewhere: the page's leave comes past the budget.
    const joined = await fetch(`${origin}/chat/conversations/elsewhere/join`, { method: 'POST', headers: { 'X-User-Id': 'alice' } });
    expect(joined.status).toBe(200);

    const page = await browser.newPage();
    const errors = collectErrors(page);
    page.on('dialog', (d) => void d.accept());
    await page.goto(`${origin}/?user_id=alice&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#conversations li[data-id="trip"]');

    await page.click('#leave');
    await page.waitForFunction(() => document.querySelector('#errors')?.textContent !== '');
    expect(await page.textContent('#errors')).toBe(
      'Could not leave the conversation yet: too many joins and leaves in a short time. Try again in 1 s.',
    );
    expect(await page.getAttribute('#errors', 'title')).toBe(
      'GATEWAY_ERR_RATE_LIMITED: too many joins and leaves; retry later (chat.limits.membership_changes_per_second)',
    );
    expect(await page.getAttribute('#state', 'data-state')).toBe('open');
    expect(await page.textContent('#title')).toBe('trip');
    expect(await page.isVisible('#leave')).toBe(true);
    expect(await page.isVisible('#conversations li[data-id="trip"]')).toBe(true);
    expect(new URL(page.url()).searchParams.get('conversation')).toBe('trip');
    expect(await members()).toEqual(['alice', 'bob']);

    clock.advance(1000);
    await page.click('#leave');
    await page.waitForSelector('#conversations li[data-id="trip"]', { state: 'detached' });
    expect(await members()).toEqual(['bob']);
    expect(await page.getAttribute('#state', 'data-state')).toBe('idle');
    expect(await page.textContent('#errors')).toBe('');
    expect(errors).toEqual([]);
  },
  60_000,
);
