import { membershipLine, removalAfter, removedBy } from '../../client/web/membership-lines';
import { removedSentence } from '../../client/web/human-errors';

const names: Record<string, string> = { alice: 'Alice A', bob: 'Bob B' };
const nameOf = (id: string): string => names[id] ?? id;
const record = (message_type: string, content: string, metadata: Record<string, unknown>) => ({ message_type, content, metadata });
const bob = { participant_id: 'bob', participant_type: 'human', display_name: 'Bob B', role: 'member' };

describe('membership lines of the chat page', () => {
  it('says who added a member, by display name', () => {
    expect(membershipLine(record('join', 'Bob B joined', { participant: bob, added_by: 'alice' }), nameOf)).toBe(
      'Bob B joined (added by Alice A)',
    );
  });

  it('says who removed a member, by display name', () => {
    expect(membershipLine(record('leave', 'Bob B left', { participant: bob, removed_by: 'alice' }), nameOf)).toBe(
      'Bob B left (removed by Alice A)',
    );
  });

  it('leaves a self-join, a self-leave and other records as the server wrote them', () => {
    expect(membershipLine(record('join', 'Bob B joined', { participant: bob }), nameOf)).toBe('Bob B joined');
    expect(membershipLine(record('leave', 'Bob B left', { participant: bob }), nameOf)).toBe('Bob B left');
    // removed_by on a join (or added_by on a leave) is no removal: not said.
    expect(membershipLine(record('join', 'Bob B joined', { participant: bob, removed_by: 'alice' }), nameOf)).toBe('Bob B joined');
    expect(membershipLine(record('mode_change', 'mode is multi', { added_by: 'alice' }), nameOf)).toBe('mode is multi');
  });

  it('tells the page whose leave record removed it, and by whom', () => {
    const removal = record('leave', 'Bob B left', { participant: bob, removed_by: 'alice' });
    expect(removedBy(removal, 'bob')).toBe('alice');
    expect(removedBy(removal, 'carol')).toBeUndefined();
    expect(removedBy(removal, undefined)).toBeUndefined();
    expect(removedBy(record('leave', 'Bob B left', { participant: bob }), 'bob')).toBeUndefined();
    expect(removedBy(record('join', 'Bob B joined', { participant: bob, added_by: 'alice' }), 'bob')).toBeUndefined();
  });

  it('forgets an earlier removal once this user is added back (a replay on connect holds both records)', () => {
    const removal = record('leave', 'Bob B left', { participant: bob, removed_by: 'alice' });
    const readded = record('join', 'Bob B joined', { participant: bob, added_by: 'alice' });
    const other = record('join', 'Carol joined', { participant: { ...bob, participant_id: 'carol' }, added_by: 'alice' });
    const seen = (records: Array<ReturnType<typeof record>>) =>
      records.reduce<string | undefined>((who, m) => removalAfter(who, m, 'bob'), undefined);
    expect(seen([removal])).toBe('alice');
    expect(seen([removal, readded])).toBeUndefined();
    expect(seen([removal, readded, removal])).toBe('alice');
    expect(seen([removal, other])).toBe('alice');
    expect(seen([readded, record('leave', 'Bob B left', { participant: bob })])).toBeUndefined();
  });

  it('says a removal in a sentence naming the remover', () => {
    expect(removedSentence('Alice A')).toBe(
      'Alice A removed you from this conversation: you no longer see its new messages and cannot post here.',
    );
  });
});
