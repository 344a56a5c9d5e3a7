/** nlweb-chat gateway: express + ws translating frames/requests into ChatRuntime calls. */
export { createChatGateway, type ChatGateway, type ChatGatewayOptions } from './chat-gateway';
export { createChatServer, type ChatServer, type ChatServerOptions } from './chat-server';
export {
  createAuthenticatorFromConfig,
  createDevAuthenticator,
  createJwtAuthenticator,
  type AuthenticatedUser,
  type Authenticator,
} from './authenticators';
export { createNoopLogger, type GatewayAudit, type GatewayLogger, type GatewayTelemetry } from './observability-hooks';
export { contentProblem } from './content-validation';
export { isLoopbackAddress } from './net-utils';
export { REFUSAL_SUBPROTOCOL } from './upgrade-rejection';
export * from './protocol';
