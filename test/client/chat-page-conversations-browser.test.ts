/**
 * The chat page's conversations: leaving one from the page (with a confirmation); untitled ones named by their
 * other members; the title field as long as the server allows. Chromium against the real server (dev auth).
 * Chromium: ./chromium.ts.
 */
import type { ConversationOutput } from '../../actors';
import { browserTest } from './chromium';
import { collectErrors, pageSessions } from './page-session';

const maybe = browserTest('chat-page-conversations-browser.test');
const session = pageSessions();

maybe(
  'Leave asks first; confirmed, alice leaves (everyone sees it) and the conversation is gone from her page',
  async () => {
    const { stack, browser, origin } = await session();
    await stack.createConversation('trip', ['alice', 'bob']);
    await stack.createConversation('other', ['alice']);
    // Bob, as an embedder's subscription, sees alice's leave record.
    let sawLeave!: () => void;
    const leaveSeen = new Promise<void>((resolve) => (sawLeave = resolve));
    const bob = await stack.runtime.subscribe('trip', 'bob', (o: ConversationOutput) => {
      if (o.type === 'message' && o.message.message_type === 'leave' && o.message.sender_id === 'alice') sawLeave();
    });
    const page = await browser.newPage();
    const errors = collectErrors(page);
    await page.goto(`${origin}/?user_id=alice&conversation=trip`);
    await page.waitForSelector('#state[data-state="open"]');
    await page.waitForSelector('#conversations li[data-id="trip"]');

    const answers = [false, true];
    const questions: string[] = [];
    page.on('dialog', (d) => {
      questions.push(`${d.type()}: ${d.message()}`);
      void (answers.shift() ? d.accept() : d.dismiss());
    });
    await page.click('#leave');
    expect(questions).toEqual(['confirm: Leave “trip”? You will no longer see its messages, and everyone in it will see that you left.']);
    expect(await page.getAttribute('#state', 'data-state')).toBe('open');

    await page.click('#leave');
    await leaveSeen;
    await page.waitForSelector('#conversations li[data-id="trip"]', { state: 'detached' });
    expect(await page.isVisible('#conversations li[data-id="other"]')).toBe(true);
    expect(await page.getAttribute('#state', 'data-state')).toBe('idle');
    expect(await page.textContent('#title')).toBe('Pick or create a conversation');
    expect(await page.isHidden('#leave')).toBe(true);
    expect(await page.locator('#messages li').count()).toBe(0);
    expect(new URL(page.url()).searchParams.get('conversation')).toBeNull();
    expect((await stack.runtime.getConversation('trip')).participants.map((p) => p.participant_id)).toEqual(['bob']);
    expect(await page.textContent('#errors')).toBe('');
    expect(errors).toEqual([]);
    bob.close();
  },
  60_000,
);

maybe(
  "untitled conversations show the other members' names (or the id's first 8 characters); the title field stops at 200",
  async () => {
    const { stack, browser, origin } = await session();
    const human = (participant_id: string, display_name?: string) => ({
      participant_id,
      participant_type: 'human' as const,
      ...(display_name !== undefined ? { display_name } : {}),
    });
    // No title: the runtime's default, 'Conversation', for each.
    await stack.runtime.createConversation({
      conversation_id: 'with-friends',
      created_by: 'alice',
      participants: [human('alice'), human('bob', 'Bob B.'), human('carol')],
      autoJoinAgents: false,
    });
    await stack.runtime.createConversation({
      conversation_id: 'abcdefgh-1234',
      created_by: 'alice',
      participants: [human('alice')],
      autoJoinAgents: false,
    });
    await stack.createConversation('Trip', ['alice', 'bob']);
    const page = await browser.newPage();
    await page.goto(`${origin}/?user_id=alice`);

    const label = (id: string): Promise<string | null> => page.textContent(`#conversations li[data-id="${id}"]`);
    await page.waitForSelector('#conversations li[data-id="with-friends"]:text-is("Bob B., carol")');
    expect(await label('abcdefgh-1234')).toBe('abcdefgh');
    expect(await label('Trip')).toBe('Trip');

    await page.click('#conversations li[data-id="with-friends"]');
    await page.waitForSelector('#state[data-state="open"]');
    expect(await page.textContent('#title')).toBe('Bob B., carol');

    expect(await page.getAttribute('#create-title', 'maxlength')).toBe('200');
  },
  60_000,
);
