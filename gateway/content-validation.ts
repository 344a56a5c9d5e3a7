/**
 * The content rule of WebSocket frames and HTTP posts: the runtime's own (runtime.post applies it too), so the
 * gateway refuses with GATEWAY_ERR_CONTENT_INVALID exactly what the runtime would refuse.
 */
import { contentProblem } from '../actors/input-rules';

export { contentProblem };

/**
 * contentProblem of text known to be printable ASCII (plain-message-frame.ts): it holds no control character and no
 * surrogate, so only emptiness and length can refuse it, checked without contentProblem's two regular expressions
 * (~650 instructions for a short line, callgrind). A refusal is contentProblem's own, word for word.
 */
export function plainContentProblem(content: string, maxLength: number): string | undefined {
  if (content.length <= maxLength && content.trim().length !== 0) return undefined;
  return contentProblem(content, maxLength);
}
