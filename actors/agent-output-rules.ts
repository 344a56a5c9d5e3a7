import type { AgentOutput } from './agents/agent';
import { hasLoneSurrogate } from '../storage-providers/record-rules';
import { hasForbiddenControl, messageTypeProblem, objectProblem } from './input-rules';

/**
 * What a piece an agent yields must be before it is sequenced. An agent is the embedder's code (or an NLWeb
 * server's answer), and its piece becomes a record delivered to everyone and journalled: a number for content
 * reaches every client as a number, a `join` piece reads as a membership change, metadata JSON cannot carry is
 * refused by a durable store only after everyone saw it. So the job checks each piece first, and a piece that
 * breaks the rule ends the job with AGENT_ERR_INVALID_OUTPUT (agent-jobs.ts) instead of becoming a record.
 *
 * Content may be empty (a piece that only marks the answer final) and is bounded by
 * `chat.limits.max_agent_output_length`, not by the human limit: an answer listing items is longer than a chat line.
 */
export function agentOutputProblem(output: unknown, maxLength: number): string | undefined {
  if (typeof output !== 'object' || output === null) return 'a piece must be an object with string content';
  const { content, message_type, metadata, final } = output as Partial<Record<keyof AgentOutput, unknown>>;
  if (typeof content !== 'string') return 'content must be a string';
  if (content.length > maxLength) return `content is longer than ${maxLength} characters`;
  if (hasLoneSurrogate(content)) return 'content is not well-formed Unicode (a lone surrogate)';
  if (hasForbiddenControl(content)) return 'content contains control characters (only \\n, \\r and \\t are allowed)';
  if (final !== undefined && typeof final !== 'boolean') return 'final must be a boolean';
  if (message_type !== undefined) {
    const problem = messageTypeProblem(message_type);
    if (problem !== undefined) return problem;
  }
  return metadata === undefined ? undefined : objectProblem(metadata, 'metadata');
}
