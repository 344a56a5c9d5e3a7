/**
 * Forwarding a WebSocket to the server that holds its conversation. With several servers on one store only
 * the holder sequences a conversation; the others refuse it (421 / close 4421, naming the holder's address),
 * which the reference client follows but a client of its own (NLWeb's, a script) may not. With
 * `chat.ownership.forward` on, a server that is asked for a conversation it does not hold pipes the upgrade to
 * the holder's published address instead: byte for byte, so the holder authenticates the caller itself and the
 * WebSocket runs end to end (heartbeats, close codes, backpressure) through one extra TCP hop. Only its own
 * shutdown makes it speak: a close frame to the holder on the client's behalf (forwarded-pipe.ts).
 *
 * One hop at most: a forwarded request carries FORWARDED_BY_HEADER, and a server never forwards such a request
 * again (two servers naming each other while a conversation moves would otherwise bounce it between them); it
 * refuses it instead, and the refusal travels back through the first server's pipe.
 */
import type { IncomingMessage } from 'node:http';
import net from 'node:net';
import type { Duplex } from 'node:stream';
import tls from 'node:tls';
import type { Clock } from '../actors/clock';
import { createLogThrottle } from '../observability/log-throttle';
import { ForwardedPipe } from './forwarded-pipe';
import type { GatewayLogger, GatewayTelemetry } from './observability-hooks';

/** Marks a forwarded upgrade; its value names the forwarding server (its address, or "unnamed"). */
export const FORWARDED_BY_HEADER = 'x-nlweb-chat-forwarded-by';

export interface OwnerForwarderOptions {
  /** What FORWARDED_BY_HEADER says: this server's published address. */
  readonly selfName: string;
  /** How long connecting to the holder may take before the upgrade is refused after all. */
  readonly connectTimeoutMs: number;
  /**
   * Whether to tell the holder the client's address (X-Forwarded-For). False under development authentication: the
   * holder's dev mode refuses proxied requests (authenticators.ts), and this server's own dev checks already passed
   * the request (a loopback caller, so the header would only ever say 127.0.0.1).
   */
  readonly forwardClientAddress: boolean;
  readonly logger: GatewayLogger;
  /** Counts the forwarded connections (nlweb_chat.connections.forwarded) and forwards (nlweb_chat.ownership.forwards). */
  readonly telemetry: GatewayTelemetry;
  /** The gateway's clock: paces the log line of a holder that cannot be reached, and times closes. */
  readonly clock: Clock;
  /** How long a forwarded connection's close may take before its sockets are cut (the gateway's shutdown grace). */
  readonly closeGraceMs: number;
}

/**
 * A holder that cannot be reached is logged once per address per this long, the line counting the attempts left out
 * (`suppressed`): every client of every conversation it held fails the same way, each retrying (46 lines in 12 s
 * from two clients).
 */
export const UNREACHABLE_LOG_INTERVAL_MS = 10_000;

export interface OwnerForwarder {
  /** Whether `req` may be forwarded: it was not forwarded already. */
  mayForward(req: IncomingMessage): boolean;
  /**
   * Pipes the upgrade (`req`, then `head`) for `conversationId` to `ownerAddress`. Calls `unreachable` instead, with
   * nothing written to `socket`, when the address is not a ws/wss/http/https URL or the holder cannot be reached in time.
   */
  forward(
    req: IncomingMessage,
    socket: Duplex,
    head: Buffer,
    target: { readonly conversationId: string; readonly ownerAddress: string },
    unreachable: () => void,
  ): void;
  /** Forwarded connections now open. */
  readonly active: number;
  /**
   * Gateway shutdown: closes every forwarded connection as the server's own are closed, 1001 GATEWAY_ERR_SHUTTING_DOWN
   * (ForwardedPipe.shutDown: through the holder, whose connection ends with the close handshake), and forwards nothing
   * more. Resolves when all have closed, at most `closeGraceMs` later.
   */
  closeAll(): Promise<void>;
}

/** Hop-by-hop or rewritten here: everything else of the client's request goes to the holder unchanged. */
const REWRITTEN_HEADERS = new Set(['host', FORWARDED_BY_HEADER, 'x-forwarded-for']);

export function createOwnerForwarder(options: OwnerForwarderOptions): OwnerForwarder {
  const pipes = new Set<ForwardedPipe>();
  let closing = false;
  // Keyed by the holder's address, a value the replicas publish (bounded by their number), not by conversation: a
  // dead holder's thousands of conversations would otherwise make a line each. The line names the first of them.
  const unreachableLines = createLogThrottle({ now: () => options.clock.now(), intervalMs: UNREACHABLE_LOG_INTERVAL_MS });

  function connectTo(target: URL): net.Socket {
    const secure = target.protocol === 'wss:' || target.protocol === 'https:';
    const port = Number(target.port || (secure ? 443 : 80));
    const host = target.hostname.replace(/^\[|\]$/g, '');
    return secure ? tls.connect({ host, port, servername: net.isIP(host) ? undefined : host }) : net.connect({ host, port });
  }

  return {
    mayForward(req) {
      return req.headers[FORWARDED_BY_HEADER] === undefined;
    },
    forward(req, socket, head, { conversationId, ownerAddress }, unreachable) {
      let target: URL;
      try {
        target = new URL(ownerAddress);
      } catch {
        options.telemetry.ownershipForward?.('websocket', false);
        unreachable();
        return;
      }
      if (!['ws:', 'wss:', 'http:', 'https:'].includes(target.protocol)) {
        options.telemetry.ownershipForward?.('websocket', false);
        unreachable();
        return;
      }
      const upstream = connectTo(target);
      let connected = false;
      const fail = (err?: Error): void => {
        if (connected) return;
        connected = true; // once: a timeout and the error that follows the destroy are one failure
        upstream.destroy();
        options.telemetry.ownershipForward?.('websocket', false);
        const suppressed = unreachableLines.admit(ownerAddress);
        if (suppressed !== undefined) {
          options.logger.warn(
            { conversation_id: conversationId, owner_address: ownerAddress, err: err?.message, suppressed },
            'could not forward a websocket to its conversation server',
          );
        }
        unreachable();
      };
      // Listeners removed once connected: left on the socket they would keep `fail` (and with it the request) alive
      // for as long as the forwarded connection lasts.
      const onConnectTimeout = (): void => fail(new Error('connect timeout'));
      upstream.setTimeout(options.connectTimeoutMs);
      upstream.once('timeout', onConnectTimeout);
      upstream.once('error', fail);
      upstream.once(target.protocol === 'wss:' || target.protocol === 'https:' ? 'secureConnect' : 'connect', () => {
        if (connected) return;
        connected = true;
        upstream.setTimeout(0);
        upstream.removeListener('timeout', onConnectTimeout);
        upstream.removeListener('error', fail);
        // Connected after the shutdown began: the upgrade was never answered, and a pipe opened now would outlive the
        // server that should close it.
        if (socket.destroyed || closing) {
          upstream.destroy();
          socket.destroy();
          return;
        }
        upstream.write(requestHead(req, target, options.selfName, options.forwardClientAddress));
        const pipe = new ForwardedPipe(socket, upstream, head, options.clock, options.closeGraceMs);
        pipes.add(pipe);
        options.telemetry.ownershipForward?.('websocket', true);
        options.telemetry.forwardedConnectionOpened?.();
        void pipe.closed.then(() => {
          pipes.delete(pipe);
          options.telemetry.forwardedConnectionClosed?.();
        });
      });
    },
    get active() {
      return pipes.size;
    },
    async closeAll() {
      closing = true;
      await Promise.all([...pipes].map((pipe) => pipe.shutDown()));
    },
  };
}

/**
 * The client's request line and headers, addressed to the holder and marked as forwarded; with `forwardClientAddress`,
 * the client's address appended to X-Forwarded-For.
 */
function requestHead(req: IncomingMessage, target: URL, selfName: string, forwardClientAddress: boolean): string {
  const lines = [`${req.method ?? 'GET'} ${req.url ?? '/'} HTTP/1.1`, `Host: ${target.host}`];
  const raw = req.rawHeaders;
  for (let i = 0; i + 1 < raw.length; i += 2) {
    if (!REWRITTEN_HEADERS.has(raw[i]!.toLowerCase())) lines.push(`${raw[i]}: ${raw[i + 1]}`);
  }
  lines.push(`${FORWARDED_BY_HEADER}: ${selfName}`);
  if (!forwardClientAddress) return `${lines.join('\r\n')}\r\n\r\n`;
  const from = req.socket.remoteAddress;
  const earlier = req.headers['x-forwarded-for'];
  const chain = [...(earlier === undefined ? [] : [String(earlier)]), ...(from === undefined ? [] : [from])];
  if (chain.length > 0) lines.push(`X-Forwarded-For: ${chain.join(', ')}`);
  return `${lines.join('\r\n')}\r\n\r\n`;
}
