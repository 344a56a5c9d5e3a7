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
// The HTTP half of the audit trail (the WebSocket half is the gateway's `audit` option): mount it before gateway.app.
export { createHttpAuditMiddleware, type HttpAuditOptions } from '../observability/http-audit';
export { createNoopLogger, type GatewayAudit, type GatewayLogger, type GatewayTelemetry } from './observability-hooks';
export { contentProblem } from './content-validation';
export { isLoopbackAddress } from './net-utils';
export { PRESENCE_BATCHES_SUBPROTOCOL, REFUSAL_SUBPROTOCOL } from './upgrade-rejection';
// The bundled chat page, for an embedder's own express app (the binary mounts it the same way). Here, not in the
// client's entry point: it reads files with node:fs, which a browser build of the client cannot take.
export { mountWebClient, type MountWebClientOptions } from '../client/web/mount-web-client';
export * from './protocol';
