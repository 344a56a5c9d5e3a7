/**
 * Membership from the chat page (docs/security.md, Adding and removing members): the owner adds a person from the
 * people panel, that person's page finds the conversation and posts, the transcript says who added and who removed,
 * and the removed person's page says so in words when its socket closes (4003) and stops. Chromium against the real
 * server (dev auth). Chromium: ./chromium.ts.
 */
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-members-browser.test');
const session = pageSessions();

maybe(
  'the owner adds bob from the page, bob posts, the owner removes him and his page says so and stops',
  async () => {
    const { stack, browser, origin } = await session();
    const created = await fetch(`${origin}/chat/conversations`, {
      method: 'POST',
      headers: { 'X-User-Id': 'alice', 'Content-Type': 'application/json' },
      body: JSON.stringify({ conversation_id: 'trip', title: 'trip', auto_join_agents: false }),
    });
    expect(created.status).toBe(201);

    const alice = await browser.newPage();
    const aliceErrors = collectErrors(alice);
    alice.on('dialog', (d) => void d.accept());
    await alice.goto(`${origin}/?user_id=alice&conversation=trip`);
    await alice.waitForSelector('#state[data-state="open"]');

    // A refusal of the route is said in words with the server's reason (the reserved id "system"), the code in the tooltip.
    await alice.fill('#add-member-id', 'system');
    await alice.click('#add-person');
    await alice.waitForFunction(() => document.querySelector('#errors')?.textContent !== '');
    expect(await alice.textContent('#errors')).toBe(
      'Could not add system. That name or setting could not be accepted. The server said: participant_id "system" is reserved: it is the sender of the conversation\'s own records.',
    );
    expect(await alice.getAttribute('#errors', 'title')).toMatch(/^CHAT_ERR_INVALID_ARGUMENT: /);

    await alice.fill('#add-member-id', 'bob');
    await alice.fill('#add-member-name', 'Bob B');
    await alice.click('#add-person');
    await alice.waitForSelector('#participant-list li[data-id="bob"]');
    await alice.waitForSelector('#messages li.system:has-text("Bob B joined (added by alice)")');
    expect(await alice.textContent('#errors')).toBe('');
    expect(await alice.inputValue('#add-member-id')).toBe('');
    expect((await stack.runtime.getConversation('trip')).participants.map((p) => p.participant_id).sort()).toEqual(['alice', 'bob']);

    const bob = await browser.newPage();
    const bobErrors = collectErrors(bob);
    await bob.goto(`${origin}/?user_id=bob`);
    await bob.click('#conversations li[data-id="trip"]');
    await bob.waitForSelector('#state[data-state="open"]');
    // Bob, a member, may add but not remove: no remove buttons on his page.
    expect(await bob.isVisible('#add-member-form')).toBe(true);
    await bob.waitForSelector('#participant-list li[data-id="alice"]');
    expect(await bob.locator('#participant-list .remove-member').count()).toBe(0);
    await bob.fill('#input', 'hello from bob');
    await bob.press('#input', 'Enter');
    await alice.waitForSelector('#messages li:has-text("hello from bob")');

    // Only the owner's page offers remove, next to the others and not next to herself.
    expect(await alice.locator('#participant-list li[data-id="alice"] .remove-member').count()).toBe(0);
    await alice.click('#participant-list li[data-id="bob"] .remove-member');
    await alice.waitForSelector('#participant-list li[data-id="bob"]', { state: 'detached' });
    await alice.waitForSelector('#messages li.system:has-text("Bob B left (removed by alice)")');

    await bob.waitForSelector('#state[data-state="closed"]');
    expect(await bob.textContent('#errors')).toBe(
      'alice removed you from this conversation: you no longer see its new messages and cannot post here.',
    );
    expect(await bob.isDisabled('#input')).toBe(true);
    await bob.waitForSelector('#conversations li[data-id="trip"]', { state: 'detached' });
    // Stopped: no reconnect attempt follows the close.
    expect(await bob.getAttribute('#state', 'data-attempt')).toBeNull();
    expect((await stack.runtime.getConversation('trip')).participants.map((p) => p.participant_id)).toEqual(['alice']);
    // The one refused request (the add of "system") is all the console saw.
    expect(aliceErrors).toEqual(['Failed to load resource: the server responded with a status of 400 (Bad Request)']);
    expect(bobErrors).toEqual([]);
  },
  60_000,
);

maybe(
  'the create form’s invite-only box makes a conversation the link alone does not let into',
  async () => {
    const { browser, origin } = await session();
    const alice = await browser.newPage();
    await alice.goto(`${origin}/?user_id=alice`);
    await alice.fill('#create-title', 'private');
    await alice.check('#create-invite-only');
    await alice.click('#create-button');
    await alice.waitForSelector('#state[data-state="open"]');
    const id = new URL(alice.url()).searchParams.get('conversation')!;
    const joined = await fetch(`${origin}/chat/conversations/${id}/join`, { method: 'POST', headers: { 'X-User-Id': 'carol' } });
    expect(joined.status).toBe(403);
    expect(((await joined.json()) as { error: string }).error).toBe('CHAT_ERR_INVITE_ONLY');
  },
  60_000,
);
