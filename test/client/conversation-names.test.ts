/** What the chat page calls an untitled conversation (client/web/conversation-names.ts). */
import { DEFAULT_TITLE, isUntitled, untitledLabel } from '../../client/web/conversation-names';
import type { Participant } from '../../client/protocol-frames';
import { closeAll, startHarness } from '../gateway/harness';

const member = (participant_id: string, participant_type: 'human' | 'ai' = 'human', display_name = participant_id): Participant => ({
  participant_id,
  participant_type,
  display_name,
  role: 'member',
  joined_at_sequence: 1,
});

afterEach(() => closeAll());

describe('names of untitled conversations', () => {
  it("are the other members' names, people first, at most three and a count", () => {
    const members = [member('alice'), member('nlweb', 'ai', 'NLWeb'), member('bob', 'human', 'Bob B.'), member('carol')];
    expect(untitledLabel('c-123456789', members, 'alice')).toBe('Bob B., carol, NLWeb');
    expect(untitledLabel('c-123456789', [...members, member('dan')], 'alice')).toBe('Bob B., carol, dan +1');
  });

  it('count the members the conversation list did not name (participant_count) in the "+N"', () => {
    const listed = [member('alice'), member('bob'), member('carol'), member('dan'), member('erin')];
    // 13 members in all, 5 listed: 12 others, 3 named.
    expect(untitledLabel('c-1', listed, 'alice', 13)).toBe('bob, carol, dan +9');
    // Without a count, the listed ones are all there are.
    expect(untitledLabel('c-1', listed, 'alice')).toBe('bob, carol, dan +1');
  });

  it("are the id's first 8 characters with nobody else in it, or before the members are known", () => {
    expect(untitledLabel('0123456789abcdef', [member('alice')], 'alice')).toBe('01234567');
    expect(untitledLabel('0123456789abcdef', undefined, 'alice')).toBe('01234567');
  });

  it("untitled: empty, or the runtime's own default for a conversation created without a title", async () => {
    const h = await startHarness();
    // Over the HTTP API, as the page creates them (JSON drops the undefined title).
    const id = await h.createConversation('alice', [], { title: undefined });
    expect((await h.runtime.getConversation(id)).title).toBe(DEFAULT_TITLE);
    expect(isUntitled(DEFAULT_TITLE)).toBe(true);
    expect(isUntitled(' ')).toBe(true);
    expect(isUntitled('Trip')).toBe(false);
  });
});
