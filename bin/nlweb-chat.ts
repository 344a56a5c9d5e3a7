#!/usr/bin/env node
/**
 * The nlweb-chat server: config (with everything a later step would refuse, bin/startup-checks.ts) →
 * OpenTelemetry SDK → logger → storage → NLWeb stand-in (when an endpoint uses it) → agents → runtime →
 * gateway → listen. SIGTERM/SIGINT shut it down gracefully (docs/operations.md).
 *
 * `nlweb-chat migrate [--check]` applies (or lists) the store's pending schema migrations and exits instead
 * (bin/migrate-command.ts); the command line is parsed in bin/server-cli.ts.
 *
 * Environment: NLWEB_CHAT_CONFIG (config file, default ./config_nlweb.yaml; missing file = defaults),
 * plus every override listed in docs/configuration.md (HOST, PORT, ...) and the standard OTEL_* variables.
 *
 * Once listening it writes one JSON log line `{"msg":"nlweb-chat ready","port":...,"url":...}` so
 * supervisors and tests learn the bound port (PORT=0 picks a free one), and in dev auth the page's address;
 * both at every log level.
 */
import { hostname } from 'node:os';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import type express from 'express';
import { createAgentsFromConfig } from '../actors/agents/create-agents-from-config';
import type { NlwebAgent } from '../actors/agents/nlweb-agent';
import { createSystemClock } from '../actors/clock';
import { createChatRuntime } from '../actors/create-chat-runtime';
import { settlesWithin } from '../actors/settles-within';
import { isChatError } from '../actors/errors';
import type { ChatRuntime } from '../actors/runtime-types';
import type { NlwebChatConfig } from '../config/config-types';
import { mountWebClient } from '../client/web/mount-web-client';
import { listenFailureText } from './listen-failure';
import { MIGRATE_EXIT, runMigrate, type MigrateOptions } from './migrate-command';
import { readConfig } from './read-config';
import { runServerCli } from './server-cli';
import { storageLocation } from './storage-location';
import { createChatServer, type ChatServer } from '../gateway/chat-server';
import { createChatTelemetry, createNoopTelemetry, type ChatTelemetry } from '../observability/chat-telemetry';
import { createHttpAuditMiddleware } from '../observability/http-audit';
import { createAuditLog, createLogger, type Logger } from '../observability/logger';
import { setupSdk, type SdkHandle } from '../observability/setup-sdk';
import type { ChatStore } from '../storage-providers/chat-store';
import { createStore } from '../storage-providers/index';
import { createNlwebStandinServer, type NlwebStandinServer } from '../testing/nlweb-standin-server';
import { standinWanted, startupProblems } from './startup-checks';

/** Exit codes: 0 clean shutdown, 1 start-up failure or unflushed records at shutdown. */
const EXIT_OK = 0;
const EXIT_FAILURE = 1;
/** Time past the flush deadline for closing sockets, storage and exporters before exiting anyway. */
const CLOSE_GRACE_MS = 2000;
/** Bound on each close after the flush (stand-in, storage, exporters). */
const CLOSE_STEP_MS = 500;

interface Running {
  readonly config: NlwebChatConfig;
  readonly logger: Logger;
  readonly sdk: SdkHandle;
  readonly store: ChatStore;
  readonly standin?: NlwebStandinServer;
  readonly agents: ReadonlyMap<string, NlwebAgent>;
  readonly runtime: ChatRuntime;
  readonly server: ChatServer;
}

/**
 * The server's claim owner id, when config names none: host and port, so a server restarted after a crash
 * takes its conversations back at once instead of waiting for its old claims to expire (docs/conversations.md).
 */
function withInstanceId(config: NlwebChatConfig): NlwebChatConfig {
  if (config.chat.ownership.instance_id) return config;
  const instance_id = `${hostname()}:${config.server.port}`;
  return { ...config, chat: { ...config.chat, ownership: { ...config.chat.ownership, instance_id } } };
}

function packageVersion(): string | undefined {
  // dist/bin/nlweb-chat.js (built) or bin/nlweb-chat.ts (ts-node/jest): package.json is two or one level up.
  for (const candidate of [path.join(__dirname, '..', '..', 'package.json'), path.join(__dirname, '..', 'package.json')]) {
    try {
      const pkg = JSON.parse(readFileSync(candidate, 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nlweb-chat') return pkg.version;
    } catch {
      // try the next location
    }
  }
  return undefined;
}

async function start(config: NlwebChatConfig, env: NodeJS.ProcessEnv, logger: Logger): Promise<Running> {
  const sdk = await setupSdk({
    observability: config.observability,
    host: config.server.host,
    idleTimeoutMs: config.server.idle_timeout_s * 1000,
    env,
    serviceVersion: packageVersion(),
  });
  const telemetry: ChatTelemetry =
    sdk.metricsEnabled || sdk.tracingEnabled
      ? createChatTelemetry({
          meterProvider: sdk.meterProvider,
          ...(sdk.tracerProvider ? { tracerProvider: sdk.tracerProvider } : {}),
        })
      : createNoopTelemetry();

  const store = createStore(config.chat.storage);
  await store.open();
  const standinConfig = config.chat.nlweb.standin;
  let standin: NlwebStandinServer | undefined;
  let agents: Map<string, NlwebAgent> = new Map();
  try {
    if (standinWanted(config)) {
      standin = await createNlwebStandinServer({
        host: '127.0.0.1',
        port: standinConfig.port,
        latencyMs: standinConfig.latency_ms,
        batches: standinConfig.batches,
        style: standinConfig.style,
      });
      logger.info({ url: standin.url }, 'NLWeb stand-in listening');
    } else if (standinConfig.enabled) {
      logger.info('NLWeb stand-in not started: no chat.nlweb.endpoints entry has url "standin"');
    }
    agents = createAgentsFromConfig(config, standin ? { standinUrl: standin.url } : {});
    // Chat works without agents, but someone who started the binary with no config file (an installed package has
    // none beside it) would otherwise wait for an answer that never comes, with nothing in the log to say why.
    if (agents.size === 0) {
      logger.warn(
        'no AI agents configured (chat.nlweb.endpoints is empty): conversations have humans only; add an endpoint, or { id: nlweb, url: standin } for the bundled stand-in (docs/configuration.md)',
      );
    }
    const runtime = await createChatRuntime({ config: withInstanceId(config), storage: store, agents, telemetry, logger });
    const metricsHandler = sdk.metricsHandler;
    const audit = createAuditLog(logger);
    const server = createChatServer({
      runtime,
      config,
      logger,
      telemetry,
      // WebSocket security events (refused upgrades, forbidden, limits, rate limits) → audit stream.
      audit,
      extraRoutes: (app: express.Express) => {
        // Security events of the HTTP API (auth failures, forbidden access, limits, redactions) → audit stream.
        app.use(createHttpAuditMiddleware(audit, { maxParticipants: config.chat.limits.max_participants }));
        if (metricsHandler) app.get(config.observability.metrics.path, (req, res) => metricsHandler(req, res));
        // The browser chat page (GET /) and its client bundle; its client gives up after ws_max_retries failures (0: never).
        const maxRetries = config.chat.context.ws_max_retries;
        mountWebClient(app, {
          ...(maxRetries > 0 ? { maxRetries } : {}),
          authMode: config.server.auth.mode,
          maxMessageLength: config.chat.limits.max_message_length,
        });
      },
    });
    const bound = await server.listen();
    const metricsUrl = sdk.metricsServer?.url ?? (metricsHandler ? `${bound.url}${config.observability.metrics.path}` : undefined);
    // Where the server is gets written whatever log_level says (an info child of its own, same stream): a
    // person who set warn still needs the address, and a supervisor the port PORT=0 picked.
    const announce = logger.child({}, { level: 'info' });
    announce.info(
      {
        port: bound.port,
        host: bound.host,
        url: bound.url,
        storage: config.chat.storage.backend,
        // "memory" alone did not say that a restart empties it, nor "sqlite" which file.
        storage_location: storageLocation(config.chat.storage, process.cwd()),
        metrics: metricsUrl ?? null,
        tracing: sdk.tracingEnabled,
        standin: standin?.url ?? null,
        // Where each agent's calls go: a stand-in endpoint shows the stand-in's address.
        agents: [...agents.values()].map((agent) => ({ id: agent.id, url: agent.baseUrl })),
        pid: process.pid,
      },
      'nlweb-chat ready',
    );
    if (config.server.auth.mode === 'dev') {
      announce.info(`open ${bound.url}/?user_id=alice to chat (dev auth: callers name themselves with ?user_id=)`);
    }
    return { config, logger, sdk, store, standin, agents, runtime, server };
  } catch (err) {
    for (const agent of agents.values()) agent.close?.();
    await standin?.close().catch(() => undefined);
    await store.close().catch(() => undefined);
    await sdk.shutdown();
    throw err;
  }
}

/**
 * Stop accepting (server closed, sockets told 1001), cancel agent jobs and flush the journal within
 * the deadline, then close the stand-in, storage and exporters. Resolves with the exit code.
 */
async function stop(running: Running, signal: string): Promise<number> {
  const { logger, config } = running;
  // The bounded close steps run on real time: the process is about to exit.
  const wallClock = createSystemClock();
  const deadlineMs = Math.round(config.observability.shutdown_deadline_s * 1000);
  const startedAt = Date.now();
  // What the shutdown has to deal with, counted before it starts: a rolling restart's log then says what each
  // replica handed over (sockets told to reconnect elsewhere, conversations and unwritten records flushed).
  const gateway = running.server.gateway;
  const atStart = running.runtime.health();
  const counts = {
    websockets: gateway.connectionCount(),
    forwarded_websockets: gateway.forwardedConnectionCount(),
    conversations: atStart.conversations,
    unpersisted: atStart.persistence_lag,
  };
  logger.info({ signal, deadline_ms: deadlineMs, ...counts }, 'shutting down');
  let code = EXIT_OK;
  try {
    await running.server.close();
  } catch (err) {
    logger.error({ err: errorText(err) }, 'closing the server failed');
  }
  const socketsClosedMs = Date.now() - startedAt;
  // Posts accepted until the sockets closed are part of what the runtime must flush.
  const toFlush = running.runtime.health().persistence_lag;
  let unflushed = 0;
  try {
    const result = await running.runtime.close({ deadlineMs: Math.max(1, deadlineMs - (Date.now() - startedAt)) });
    unflushed = result.unflushed;
    if (!result.flushed) {
      code = EXIT_FAILURE;
      logger.error(
        { unflushed: result.unflushed, deadline_ms: deadlineMs },
        `shutdown deadline passed: ${result.unflushed} delivered message(s) were not persisted`,
      );
    }
  } catch (err) {
    code = EXIT_FAILURE;
    // Nothing says what was written: count none as flushed.
    unflushed = toFlush;
    logger.error({ err: errorText(err) }, 'closing the runtime failed');
  }
  for (const agent of running.agents.values()) agent.close?.();
  // Each remaining close is bounded: a journal write stuck in the database (the usual reason the flush
  // missed its deadline) would otherwise hold the storage pool open until the hard guard fires.
  if (
    running.standin &&
    !(await settlesWithin(
      running.standin.close().catch(() => undefined),
      CLOSE_STEP_MS,
      wallClock,
    ))
  ) {
    logger.warn({ within_ms: CLOSE_STEP_MS }, 'the NLWeb stand-in did not close in time');
  }
  try {
    if (!(await settlesWithin(running.store.close(), CLOSE_STEP_MS, wallClock))) {
      code = EXIT_FAILURE;
      logger.error({ within_ms: CLOSE_STEP_MS }, 'the storage did not close in time (a write is still pending)');
    }
  } catch (err) {
    code = EXIT_FAILURE;
    logger.error({ err: errorText(err) }, 'closing the storage failed');
  }
  await settlesWithin(running.sdk.shutdown(), CLOSE_STEP_MS, wallClock);
  logger.info(
    {
      exit_code: code,
      took_ms: Date.now() - startedAt,
      sockets_closed_ms: socketsClosedMs,
      ...counts,
      flushed: Math.max(0, toFlush - unflushed),
      unflushed,
    },
    code === EXIT_OK ? 'shutdown complete' : 'shutdown incomplete',
  );
  return code;
}

function errorText(err: unknown): string {
  return err instanceof Error ? (isChatError(err) ? `${err.code}: ${err.message}` : err.message) : String(err);
}

function exitAfterFlush(logger: Logger | undefined, code: number): void {
  if (!logger) {
    process.exit(code);
  }
  logger.flush(() => process.exit(code));
}

/** Runs the server until SIGTERM/SIGINT. */
export async function main(env: NodeJS.ProcessEnv = process.env): Promise<void> {
  // startupProblems: what would otherwise be refused only after the storage or the stand-in had started.
  const config = readConfig(env, startupProblems);
  if (!config) {
    process.exitCode = EXIT_FAILURE;
    return;
  }
  const logger = createLogger({ level: config.observability.log_level, sync: true });
  let running: Running | undefined;
  let stopSignal: NodeJS.Signals | undefined;

  const beginStop = (target: Running, signal: NodeJS.Signals): void => {
    void stop(target, signal).then(
      (code) => exitAfterFlush(logger, code),
      (err: unknown) => {
        logger.error({ err: errorText(err) }, 'shutdown failed');
        exitAfterFlush(logger, EXIT_FAILURE);
      },
    );
  };
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopSignal !== undefined) {
      logger.warn({ signal }, 'second signal during shutdown: exiting now');
      exitAfterFlush(logger, EXIT_FAILURE);
      return;
    }
    stopSignal = signal;
    // A hung close (or start-up) must not keep the process alive past the deadline (not unref'd: it is the guard).
    const guardMs = Math.round(config.observability.shutdown_deadline_s * 1000) + CLOSE_GRACE_MS;
    setTimeout(() => {
      logger.error({ guard_ms: guardMs }, 'shutdown did not finish in time; exiting with unflushed state');
      exitAfterFlush(logger, EXIT_FAILURE);
    }, guardMs);
    // During start-up the stop runs once start() has finished (below).
    if (running) beginStop(running, signal);
  };
  // Installed before anything listens: until a handler exists the OS default for SIGTERM kills the
  // process outright, so a supervisor reacting to the "ready" line could otherwise skip the flush.
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  process.on('uncaughtException', (err) => {
    logger.fatal({ err: err.stack ?? err.message }, 'uncaught exception');
    if (stopSignal === undefined) onSignal('SIGTERM');
  });
  process.on('unhandledRejection', (reason) => {
    logger.error({ err: errorText(reason) }, 'unhandled promise rejection');
  });

  try {
    running = await start(config, env, logger);
  } catch (err) {
    const text = listenFailureText(err, config) ?? errorText(err);
    process.stderr.write(`nlweb-chat: start-up failed: ${text}\n`);
    logger.fatal({ err: text }, 'start-up failed');
    exitAfterFlush(logger, EXIT_FAILURE);
    return;
  }
  if (stopSignal !== undefined) beginStop(running, stopSignal);
}

/** `nlweb-chat migrate [--check]`: the config without the server's start-up checks (no TLS files or agents needed). */
async function migrate(options: MigrateOptions, env: NodeJS.ProcessEnv = process.env): Promise<number> {
  const config = readConfig(env);
  if (!config) return MIGRATE_EXIT.failure;
  return runMigrate(config.chat.storage, options, { stdout: process.stdout, stderr: process.stderr });
}

if (require.main === module) {
  runServerCli(process.argv, { serve: () => main(), migrate: (options) => migrate(options) }, process).then(
    (code) => {
      if (code !== undefined) process.exitCode = code;
    },
    (err: unknown) => {
      process.stderr.write(`nlweb-chat: ${errorText(err)}\n`);
      process.exitCode = EXIT_FAILURE;
    },
  );
}
