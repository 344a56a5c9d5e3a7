/**
 * The chat page's table of sentences for error codes (client/web/human-errors.ts) covers every code the server
 * documents and names no other, and closes are told by the code their reason names, else by the close code.
 */
import { ERROR_CODES } from '../../actors/errors';
import { contentProblem } from '../../actors/input-rules';
import { messageSizeProblem } from '../../client/message-limits';
import {
  apiRefusalSentence,
  closedSentence,
  HUMAN_SENTENCES,
  humanSentence,
  MAX_SHOWN_REASON,
  refusalSentence,
  UNKNOWN_ERROR,
} from '../../client/web/human-errors';

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
    // The versions spoken follow the code in the reason: the code is still found.
    expect(closedSentence({ code: 1008, reason: 'fatal close 1008: GATEWAY_ERR_UNSUPPORTED_PROTOCOL_VERSION 1' })).toMatch(
      /too old or too new/,
    );
  });
});

// The reasons are the server's own (contentProblem is what the gateway sends with GATEWAY_ERR_CONTENT_INVALID), so a
// change of its wording fails here instead of sending the page back to the vague sentence.
describe('a refused message says what was wrong with it', () => {
  const refused = (content: string): string => refusalSentence('GATEWAY_ERR_CONTENT_INVALID', contentProblem(content, 10_000)!);

  it('control characters, too long, a lone surrogate, empty: each its own sentence', () => {
    expect(refused('ctl:\u0007\u001b[31mred')).toBe(
      "The message contains control characters (such as a terminal's colour codes); only line breaks and tabs can be sent.",
    );
    expect(refused('x'.repeat(10_001))).toBe('The message is too long: at most 10,000 characters fit in one message.');
    expect(refused('half \ud83d emoji')).toBe('The message contains a broken character (half of an emoji or symbol).');
    expect(refused('  ')).toBe('The message is empty.');
  });

  it("the client's own refusal (CLIENT_MESSAGE_TOO_LARGE) says too long as the server's would, any other size generally", () => {
    const limits = { maxFrameBytes: 65_536, maxMessageLength: 10_000, maxMetadataBytes: 8192 };
    const problem = (content: string, metadata?: Record<string, unknown>): string =>
      `not sent: ${messageSizeProblem({ type: 'message', message_id: 'm', content, ...(metadata ? { metadata } : {}) }, limits)!}`;
    expect(refusalSentence('CLIENT_MESSAGE_TOO_LARGE', problem('x'.repeat(10_001)))).toBe(refused('x'.repeat(10_001)));
    expect(refusalSentence('CLIENT_MESSAGE_TOO_LARGE', problem('x', { k: 'v'.repeat(9000) }))).toBe(
      HUMAN_SENTENCES['CLIENT_MESSAGE_TOO_LARGE'],
    );
  });

  it("any other reason or code reads as the code's sentence", () => {
    expect(refusalSentence('GATEWAY_ERR_CONTENT_INVALID', 'something new')).toBe(HUMAN_SENTENCES['GATEWAY_ERR_CONTENT_INVALID']);
    expect(refusalSentence('CHAT_ERR_QUEUE_FULL', 'content is empty')).toBe(HUMAN_SENTENCES['CHAT_ERR_QUEUE_FULL']);
  });
});

describe("an HTTP refusal says the server's reason when it is a 400", () => {
  const badRequest = HUMAN_SENTENCES['GATEWAY_ERR_BAD_REQUEST'];

  it("a 400: the sentence, then the server's message (a full stop added when it has none)", () => {
    expect(apiRefusalSentence('Could not create it.', 400, { error: 'GATEWAY_ERR_BAD_REQUEST', message: 'unknown agent "nope"' })).toBe(
      `Could not create it. ${badRequest} The server said: unknown agent "nope".`,
    );
    expect(apiRefusalSentence('Could not add x.', 400, { error: 'CHAT_ERR_INVALID_ARGUMENT', message: 'id is reserved.' })).toBe(
      `Could not add x. ${HUMAN_SENTENCES['CHAT_ERR_INVALID_ARGUMENT']} The server said: id is reserved.`,
    );
  });

  it('a 400 without a message, and any other status, say only the sentence', () => {
    expect(apiRefusalSentence('Could not create it.', 400, { error: 'GATEWAY_ERR_BAD_REQUEST' })).toBe(
      `Could not create it. ${badRequest}`,
    );
    expect(apiRefusalSentence('Could not create it.', 400, { error: 'GATEWAY_ERR_BAD_REQUEST', message: '  ' })).toBe(
      `Could not create it. ${badRequest}`,
    );
    expect(apiRefusalSentence('Could not open c.', 404, { error: 'CHAT_ERR_NOT_FOUND', message: 'conversation c not found' })).toBe(
      `Could not open c. ${HUMAN_SENTENCES['CHAT_ERR_NOT_FOUND']}`,
    );
  });

  it('a long message is cut to MAX_SHOWN_REASON characters', () => {
    const said = apiRefusalSentence('X.', 400, { error: 'GATEWAY_ERR_BAD_REQUEST', message: 'y'.repeat(5000) });
    expect(said).toBe(`X. ${badRequest} The server said: ${'y'.repeat(MAX_SHOWN_REASON - 1)}…`);
  });
});
