/**
 * Agents as embedders use them (re-exported from the package root): the Agent contract, the echo agent, the NLWeb
 * participant and the config helper the server binary uses. The wire-level pieces (SSE parser, stream normaliser,
 * /ask parameters) stay internal: their shapes follow NLWeb's protocol and may change with it.
 */
export type { Agent, AgentNoAnswer, AgentOutput, AgentTurn, AgentRegistry } from './agent';
export { createEchoAgent } from './echo-agent';
export { createNlwebAgent } from './nlweb-agent';
export type { NlwebAgent, NlwebAgentOptions } from './nlweb-agent';
export type { NlwebMode } from './nlweb-ask-request';
export { createAgentsFromConfig } from './create-agents-from-config';
export type { CreateAgentsOptions } from './create-agents-from-config';
