/**
 * The chat page's table of sentences for error codes (client/web/human-errors.ts) covers every code the server
 * documents and names no other, and closes are told by the code their reason names, else by the close code.
 */
import { ERROR_CODES } from '../../actors/errors';
import { closedSentence, HUMAN_SENTENCES, humanSentence, UNKNOWN_ERROR } from '../../client/web/human-errors';

describe("the chat page's sentences for error codes", () => {
  it('has one for every server code, and no key that is neither a server code nor a client one', () => {
    const keys = Object.keys(HUMAN_SENTENCES);
    expect(Object.keys(ERROR_CODES).filter((code) => !keys.includes(code))).toEqual([]);
    expect(keys.filter((k) => !(k in ERROR_CODES) && !k.startsWith('CLIENT_'))).toEqual([]);
  });

  it('says sentences, not codes', () => {
    for (const sentence of Object.values(HUMAN_SENTENCES)) {
      expect(sentence).toMatch(/^[A-Z].*[.]$/);
      expect(sentence).not.toMatch(/_ERR_|\d{3}/);
    }
    expect(humanSentence('SOME_ERR_FROM_A_NEWER_SERVER')).toBe(UNKNOWN_ERROR);
    expect(humanSentence(undefined)).toBe(UNKNOWN_ERROR);
  });

  it('tells a close by the code its reason names, else by the close code', () => {
    const notMember = HUMAN_SENTENCES['CHAT_ERR_NOT_PARTICIPANT'];
    expect(closedSentence({ code: 4003, reason: 'fatal close 4003: CHAT_ERR_NOT_PARTICIPANT' })).toBe(notMember);
    expect(closedSentence({ code: 4003, reason: 'fatal close 4003' })).toBe(notMember);
    expect(closedSentence({ code: 4003, reason: 'fatal close 4003: CHAT_ERR_FORBIDDEN' })).toBe(HUMAN_SENTENCES['CHAT_ERR_FORBIDDEN']);
    expect(closedSentence({ code: 1006, reason: 'gave up after 3 failed attempts' })).toMatch(/^Could not reach the server/);
    expect(closedSentence({ code: 1000, reason: 'fatal close 1000' })).toMatch(/^The connection was closed/);
  });
});
