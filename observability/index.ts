/** Observability: metric/span names, the telemetry facade over @opentelemetry/api, logger and audit log. */
export * from './telemetry-names';
export * from './chat-telemetry';
export * from './logger';
export * from './http-audit';
