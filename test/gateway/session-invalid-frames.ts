import type { InvalidVariant } from './session-commands';
import type { Answer, SessionSocket } from './session-socket';

/**
 * Sends one frame the gateway must refuse (docs/protocol.md, "Invalid frames") and checks the answer: the
 * coded error, then either the close with 1007 (not JSON) or a socket that still answers a ping. `n`
 * makes the frame's ids unique; `post` is a message id and content of the session (an invalid content
 * under a real id must not create or spoil its record). Returns the violations.
 */
export async function sendInvalidFrame(
  socket: SessionSocket,
  variant: InvalidVariant,
  n: number,
  post: { readonly messageId: string; readonly content: string },
): Promise<string[]> {
  const isError = (code: string) => (a: Answer) => a.kind === 'error' && a.code === code;
  let answer: Answer;
  if (variant === 'not_json') {
    socket.allowClose(1007);
    answer = await socket.request('{"type": "message", ', undefined, isError('GATEWAY_ERR_MALFORMED_JSON'));
  } else if (variant === 'unknown_type') {
    answer = await socket.request({ type: 'shout', content: post.content }, undefined, isError('GATEWAY_ERR_INVALID_FRAME'));
  } else if (variant === 'extra_field') {
    const bad = `bad-${n}`;
    answer = await socket.request(
      { type: 'message', message_id: bad, content: post.content, colour: 'red' },
      bad,
      isError('GATEWAY_ERR_INVALID_FRAME'),
    );
  } else {
    const frame = { type: 'message', message_id: post.messageId, content: `${post.content}\u0007` };
    answer = await socket.request(frame, post.messageId, isError('GATEWAY_ERR_CONTENT_INVALID'));
  }
  // The socket went away first (a drop, a leave): its close code is judged on its own.
  if (answer.kind === 'lost') return [];
  if (answer.kind !== 'error') return [`${socket.label}: ${variant} answered ${JSON.stringify(answer)}`];
  if (variant === 'not_json') {
    await socket.closed;
    return [];
  }
  // The socket stays usable: a ping is still answered (unless something else closes it meanwhile).
  if (!socket.isOpen) return [];
  socket.send({ type: 'ping', ts: n });
  await socket.client.waitFor('pong', (f) => f.ts === n).catch(() => undefined);
  return [];
}
