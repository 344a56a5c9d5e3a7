import type { ChatMessage } from '../../actors';
import { neverOfferedPosts } from '../../actors/never-offered-posts';
import { agent, msg, person } from '../../testing/store-contract/fixtures';

/**
 * Which stored posts a load hands the machine as a burst never offered to the agents (actors/never-offered-posts.ts):
 * multi-mode human posts after the AI members' lowest offer mark and after the last human post an agent job answers.
 */

const MULTI = [person('alice'), person('bob', 2), agent('nlweb', 3)];
const SINGLE = [person('alice'), agent('nlweb', 2)];

const post = (seq: number, sender = 'alice'): ChatMessage => msg('c', seq, { sender_id: sender, message_id: `p${seq}` });
const modeChange = (seq: number, mode: 'single' | 'multi'): ChatMessage =>
  msg('c', seq, {
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'mode_change',
    message_id: `mode-${seq}`,
    metadata: { mode, previous_mode: mode === 'multi' ? 'single' : 'multi' },
  });
const jobStarted = (seq: number, trigger: number): ChatMessage =>
  msg('c', seq, {
    sender_id: 'system',
    sender_type: 'system',
    message_type: 'agent_job_started',
    message_id: `job-${seq}`,
    metadata: { job_id: `c:${trigger}:nlweb`, participant_id: 'nlweb', in_reply_to_sequence: trigger, in_reply_to_sequences: [trigger] },
  });
const answerPiece = (seq: number, trigger: number): ChatMessage =>
  msg('c', seq, {
    sender_id: 'nlweb',
    sender_type: 'ai',
    message_id: `c:${trigger}:nlweb:1`,
    metadata: { job_id: `c:${trigger}:nlweb`, part: 1, complete: true, in_reply_to_sequence: trigger },
  });

const ids = (posts: readonly ChatMessage[]) => posts.map((m) => m.sequence_id);

describe('neverOfferedPosts', () => {
  it('multi mode: the posts after the offer mark are the waiting burst', () => {
    const recent = [post(4), post(5, 'bob'), post(6), post(7, 'bob')];
    expect(ids(neverOfferedPosts(recent, MULTI, new Map([['nlweb', 5]])))).toEqual([6, 7]);
    expect(ids(neverOfferedPosts(recent, MULTI, new Map([['nlweb', 7]])))).toEqual([]);
  });

  it("without a stored mark the AI member's join record is the mark (posts from before it joined were not its to answer)", () => {
    const late = [person('alice'), person('bob', 2), agent('nlweb', 5)];
    expect(ids(neverOfferedPosts([post(3), post(4, 'bob'), post(6)], late, new Map()))).toEqual([6]);
  });

  it('the lowest mark of the AI members counts: one that joined while the burst waited does not hide it', () => {
    const two = [...MULTI, agent('helper', 8)];
    const recent = [post(6), post(7, 'bob'), msg('c', 8, { sender_id: 'system', sender_type: 'system', message_type: 'join' })];
    expect(ids(neverOfferedPosts(recent, two, new Map([['nlweb', 5]])))).toEqual([6, 7]);
  });

  it('a post sequenced in single mode was offered by the step that sequenced it: never found', () => {
    expect(ids(neverOfferedPosts([post(3), post(4), post(5)], SINGLE, new Map()))).toEqual([]);
    // Single, then multi from a join at 6: only the posts after the mode change wait.
    const recent = [post(3), post(4), modeChange(6, 'multi'), post(7, 'bob'), post(8)];
    expect(ids(neverOfferedPosts(recent, MULTI, new Map()))).toEqual([7, 8]);
    // Multi, then single from a leave at 6: the posts before it still count, the single-mode ones after do not.
    const after = [post(4), post(5, 'bob'), modeChange(6, 'single'), post(7)];
    expect(ids(neverOfferedPosts(after, SINGLE, new Map()))).toEqual([4, 5]);
  });

  it('an agent job answering a human post covers it and every post before it (a mark not written before the crash)', () => {
    const recent = [post(4), post(5, 'bob'), jobStarted(6, 5), answerPiece(7, 5), post(8)];
    expect(ids(neverOfferedPosts(recent, MULTI, new Map([['nlweb', 3]])))).toEqual([8]);
  });

  it("a chain's job (answering an AI record) says nothing about the humans' posts waiting meanwhile", () => {
    const recent = [post(4), answerPiece(5, 3), jobStarted(6, 5)];
    expect(ids(neverOfferedPosts(recent, MULTI, new Map([['nlweb', 3]])))).toEqual([4]);
  });

  it('no AI member: nothing to offer', () => {
    expect(neverOfferedPosts([post(3), post(4, 'bob')], [person('alice'), person('bob', 2)], new Map())).toEqual([]);
  });
});
