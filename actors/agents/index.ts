/** Agents: the Agent contract, the echo agent and the NLWeb participant. */
export type { Agent, AgentNoAnswer, AgentOutput, AgentTurn, AgentRegistry } from './agent';
export { createEchoAgent } from './echo-agent';
export { createNlwebAgent } from './nlweb-agent';
export type { NlwebAgent, NlwebAgentOptions } from './nlweb-agent';
export { createAgentsFromConfig } from './create-agents-from-config';
export type { CreateAgentsOptions } from './create-agents-from-config';
export { buildNlwebAskParams, encodeNlwebAskParams, lastAnswersFromTurn } from './nlweb-ask-request';
export type { NlwebAskParams, NlwebMode, NlwebLastAnswer } from './nlweb-ask-request';
export { createSseParser } from './nlweb-sse-parser';
export type { SseEvent, SseParser } from './nlweb-sse-parser';
export { createNlwebStreamNormalizer, normalizeNlwebJson, normalizeNlwebItem } from './nlweb-stream-normalizer';
export type { NlwebItem, NlwebPiece, NlwebStreamNormalizer } from './nlweb-stream-normalizer';
