/**
 * nlweb-chat: the package root. The embedding API (createChatRuntime), the conversation machine,
 * agents, errors and record types. Gateway, storage providers, client and testing helpers have their
 * own entry points (see package.json "exports").
 */
export * from './actors/index';
export { loadConfig, validateConfig } from './config/index';
export type { NlwebChatConfig, ConfigInput } from './config/index';
export { createAuditLog, createLogger } from './observability/logger';
export type { AuditLog, AuditRecord, CreateLoggerOptions, Logger, LogLevel, RuntimeLogger } from './observability/logger';
export { createChatTelemetry, createNoopTelemetry, type ChatTelemetry, type ChatTelemetryOptions } from './observability/chat-telemetry';
