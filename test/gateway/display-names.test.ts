/**
 * Display names from the caller's credentials (a JWT's `name` claim, dev mode's `display_name`) are kept to 200
 * UTF-16 units without cutting a surrogate pair in half, and a lone surrogate becomes U+FFFD: half a pair in a
 * participant record is text no store keeps as sent (PostgreSQL's jsonb refuses the join record). Real server on
 * port 0, real `ws`.
 */
import { closeAll, invalidFrames, startHarness, track } from './harness';
import { connectClient } from './ws-test-client';

afterEach(async () => {
  const invalid = invalidFrames();
  await closeAll();
  expect(invalid).toEqual([]);
});

/** The display name the conversation's participant_list gives `userId` once it joined with join=true. */
async function joinedName(url: string, userId: string): Promise<string | undefined> {
  const client = track(await connectClient(url));
  const list = await client.waitFor('participant_list');
  return list.participants.find((p) => p.participant_id === userId)?.display_name;
}

describe('display names from credentials', () => {
  test('dev mode: a name cut at 200 does not keep half of an emoji', async () => {
    const h = await startHarness({ server: { auth: { mode: 'dev' } } });
    const created = await fetch(`${h.url}/chat/conversations?user_id=alice`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{"auto_join_agents":false}',
    });
    const conv = ((await created.json()) as { conversation_id: string }).conversation_id;
    const name = `${'a'.repeat(199)}😀 and more`;
    const url = `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?user_id=bob&join=true&display_name=${encodeURIComponent(name)}`;
    expect(await joinedName(url, 'bob')).toBe('a'.repeat(199));
    // Whole pairs within the bound stay.
    const short = `${'a'.repeat(198)}😀`;
    const url2 = `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?user_id=carol&join=true&display_name=${encodeURIComponent(short)}`;
    expect(await joinedName(url2, 'carol')).toBe(short);
  });

  test('jwt mode: a lone surrogate in the name claim becomes U+FFFD', async () => {
    const h = await startHarness();
    const conv = await h.createConversation('alice');
    const url = `${h.url.replace(/^http/, 'ws')}/chat/ws/${conv}?token=${h.token('bob', { name: 'Bob \ud800 B' })}&join=true`;
    expect(await joinedName(url, 'bob')).toBe('Bob \ufffd B');
  });
});
