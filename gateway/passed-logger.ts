import { configProblemsError } from '../config/load-config';
import type { GatewayLogger } from './observability-hooks';

/** What the gateway calls on its logger (GatewayLogger): `child` once per WebSocket connection, the rest per line. */
const LOGGER_METHODS = ['info', 'warn', 'error', 'debug', 'child'] as const;

/**
 * The logger an embedder passed to createChatGateway / createChatServer, refused with CONFIG_ERR_INVALID
 * (`details.problems`, each `{path, message}`) when it lacks a method the gateway calls. Checked at construction:
 * a logger without `child` (winston's older loggers, a hand-written object) otherwise threw in each WebSocket's
 * constructor, after the upgrade had subscribed and taken its user's connection slot, neither given back.
 */
export function passedLogger(logger: GatewayLogger | undefined): GatewayLogger | undefined {
  if (logger === undefined) return undefined;
  const given = logger as unknown as Record<string, unknown> | null;
  const missing =
    typeof given === 'object' && given !== null ? LOGGER_METHODS.filter((m) => typeof given[m] !== 'function') : LOGGER_METHODS;
  if (missing.length === 0) return logger;
  const problems = missing.map((m) => ({
    path: `logger.${m}`,
    message: 'must be a function (GatewayLogger: info, warn, error, debug, child)',
  }));
  throw configProblemsError(problems);
}
