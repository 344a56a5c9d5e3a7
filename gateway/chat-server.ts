import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';
import type { AddressInfo } from 'node:net';
import express from 'express';
import { ChatError } from '../actors/errors';
import { configProblemsError, resolveConfig } from '../config/load-config';
import { createChatGateway, type ChatGateway, type ChatGatewayOptions } from './chat-gateway';
import { createErrorHandler } from './http-error-handler';
import { createNoopLogger } from './observability-hooks';
import { serverConfigProblems } from './server-config-checks';

export interface ChatServerOptions extends ChatGatewayOptions {
  /** Mounted before the gateway's routes (e.g. /metrics). */
  readonly extraRoutes?: (app: express.Express) => void;
}

export interface ChatServer {
  /** Starts listening on config.server.host:port (port 0 = any free port). */
  listen(): Promise<{ port: number; host: string; url: string }>;
  /** Closes every WebSocket (1001), then the server and its keep-alive sockets. Does not close the runtime. */
  close(): Promise<void>;
  readonly server: http.Server | https.Server;
  readonly gateway: ChatGateway;
  readonly app: express.Express;
}

/**
 * One http or https server (https when config.server.tls has cert_file and key_file) serving the HTTP
 * API and the WebSocket upgrades. Refuses dev authentication on a non-loopback host.
 */
export function createChatServer(options: ChatServerOptions): ChatServer {
  // Resolved once here, so the gateway gets the validated object and does not validate it again.
  const config = resolveConfig(options.config);
  // Checked by createChatGateway below, before anything here uses it.
  const logger = options.logger ?? createNoopLogger();
  const { host, port } = config.server;
  const problems = serverConfigProblems(config, { customAuthenticator: options.authenticate !== undefined });
  if (problems.length > 0) {
    throw configProblemsError(problems);
  }
  const { cert_file: certFile, key_file: keyFile } = config.server.tls;
  const tls = certFile !== '';

  const gateway = createChatGateway({
    runtime: options.runtime,
    config,
    logger,
    ...(options.authenticate ? { authenticate: options.authenticate } : {}),
    ...(options.telemetry ? { telemetry: options.telemetry } : {}),
    ...(options.audit ? { audit: options.audit } : {}),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.trustForwardedProto === undefined ? {} : { trustForwardedProto: options.trustForwardedProto }),
    ...(options.allowedOrigins ? { allowedOrigins: options.allowedOrigins } : {}),
  });
  const app = express();
  app.disable('x-powered-by');
  options.extraRoutes?.(app);
  app.use(gateway.app);
  app.use((_req, _res, next) => next(new ChatError('GATEWAY_ERR_NOT_FOUND')));
  app.use(createErrorHandler(logger));

  let server: http.Server | https.Server;
  if (tls) {
    let cert: Buffer;
    let key: Buffer;
    try {
      cert = readFileSync(certFile);
      key = readFileSync(keyFile);
    } catch (err) {
      throw new ChatError('CONFIG_ERR_READ', `cannot read the TLS certificate or key: ${(err as Error).message}`, { cause: err });
    }
    server = https.createServer({ cert, key }, app);
  } else {
    server = http.createServer(app);
  }
  // A connection that never sends a byte is otherwise kept for ever: node's headersTimeout starts with a request,
  // and enough of them (3,000 held 110 s here, unharmed) use up the process's file descriptors. Inactivity closes
  // them; ws lifts the timeout of the sockets it upgrades, whose liveness is the heartbeat's.
  if (config.server.idle_timeout_s > 0) server.setTimeout(config.server.idle_timeout_s * 1000);
  gateway.attach(server);

  return {
    server,
    gateway,
    app,
    listen() {
      return new Promise((resolve, reject) => {
        const onError = (err: Error): void => reject(err);
        server.once('error', onError);
        server.listen(port, host, () => {
          server.off('error', onError);
          const address = server.address() as AddressInfo;
          const urlHost = address.family === 'IPv6' ? `[${address.address}]` : address.address;
          const url = `${tls ? 'https' : 'http'}://${urlHost}:${address.port}`;
          logger.info({ url, tls, auth: options.authenticate ? 'custom' : config.server.auth.mode }, 'nlweb-chat listening');
          resolve({ port: address.port, host: address.address, url });
        });
      });
    },
    async close() {
      await gateway.close();
      await new Promise<void>((resolve) => {
        if (!server.listening) return resolve();
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
