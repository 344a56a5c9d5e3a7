import * as http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { createSystemClock } from '../actors/clock';
import type { Clock } from '../actors/clock';
import { STANDIN_ITEMS } from './standin-items';
import { answerScript, jsonAnswer, type Step } from './standin-script';
import type { StandinItem } from './standin-items';

/**
 * A small NLWeb stand-in: the same `/ask` API (GET or POST, query string and form/JSON body) and
 * the same SSE stream as NLWeb, in the current or the older style, answering deterministically
 * from a bundled catalogue. Tests, the benchmark and `npm start` use it in place of a real server.
 */

export type StandinStyle = 'current' | 'legacy';

/**
 * How the next requests are answered. 'normal' answers the query; the others simulate failures
 * ('hang' sends the first event and then nothing until the client goes away) or no-answer streams;
 * 'unknown-types' adds message types no client knows; 'nlweb-error' ends with `error: true`.
 */
export type StandinBehaviour =
  'normal' | 'error500' | 'malformed' | 'close-mid-stream' | 'hang' | 'no-results' | 'irrelevant' | 'unknown-types' | 'nlweb-error';

export interface NlwebStandinOptions {
  /** Total time from request to the end of the answer, in ms. Default 10. */
  readonly latencyMs?: number;
  /** Result batches the items are split into (evenly spaced over the latency). Default 3. */
  readonly batches?: number;
  readonly style?: StandinStyle;
  /** 0 (default) picks a free port. */
  readonly port?: number;
  readonly host?: string;
  readonly items?: readonly StandinItem[];
  /** Times the batches; defaults to the system clock. */
  readonly clock?: Clock;
  /** Interval of `: keepalive` comments on open streams (NLWeb: 30 s). One is always sent first. */
  readonly keepaliveMs?: number;
  /**
   * Streaming answers: ms between the last batch and the end message. 0 (default) sends both in one write,
   * so a client reads them together; more sends the end in a write of its own that much later, as a
   * server does that still has work after its last result (a client then reads the end on its own).
   */
  readonly endDelayMs?: number;
}

/** One /ask request as the stand-in saw it. */
export interface StandinRequest {
  readonly method: string;
  readonly path: string;
  /** Query string and body parameters merged (body wins), every value a string as NLWeb sees it. */
  readonly params: Readonly<Record<string, string>>;
  readonly headers: Readonly<http.IncomingHttpHeaders>;
  /** Which connection (1, 2, ...) carried it: equal numbers mean a reused keep-alive socket. */
  readonly connection: number;
  /** Resolves when the exchange is over: 'completed' (answer sent) or 'aborted' (client went away first). */
  readonly closed: Promise<'completed' | 'aborted'>;
}

export interface NlwebStandinServer {
  /** `http://host:port` (no trailing slash); the agent appends /ask. */
  readonly url: string;
  readonly port: number;
  readonly requests: readonly StandinRequest[];
  /** TCP connections accepted so far. */
  readonly connectionCount: number;
  /** TCP connections open now (a client's idle keep-alive sockets count). */
  readonly openConnectionCount: number;
  /** Resolves once no TCP connection is open: a client closed (or never kept) its keep-alive sockets. */
  whenNoConnectionOpen(): Promise<void>;
  setBehaviour(behaviour: StandinBehaviour): void;
  /** Changes the latency of answers to requests that arrive from now on (a benchmark warms up fast, then measures). */
  setLatency(latencyMs: number): void;
  /** Resolves with the request at `index` (0-based) once it has arrived. */
  waitForRequest(index: number): Promise<StandinRequest>;
  close(): Promise<void>;
}

function parseForm(body: string, contentType: string): Record<string, string> {
  const out: Record<string, string> = {};
  if (body === '') return out;
  if (contentType.includes('application/json')) {
    try {
      const parsed: unknown = JSON.parse(body);
      if (typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed)) {
        for (const [k, v] of Object.entries(parsed)) out[k] = typeof v === 'string' ? v : JSON.stringify(v);
      }
    } catch {
      // An unreadable body is ignored, as NLWeb does.
    }
    return out;
  }
  for (const [k, v] of new URLSearchParams(body)) out[k] = v;
  return out;
}

/** Starts the stand-in and resolves once it listens. */
export async function createNlwebStandinServer(options: NlwebStandinOptions = {}): Promise<NlwebStandinServer> {
  let latencyMs = Math.max(0, options.latencyMs ?? 10);
  const batches = Math.max(1, Math.floor(options.batches ?? 3));
  const style: StandinStyle = options.style ?? 'current';
  const items = options.items ?? STANDIN_ITEMS;
  const clock = options.clock ?? createSystemClock();
  const keepaliveMs = options.keepaliveMs ?? 30_000;
  const endDelayMs = Math.max(0, options.endDelayMs ?? 0);
  let behaviour: StandinBehaviour = 'normal';
  const requests: StandinRequest[] = [];
  const waiters = new Map<number, ((r: StandinRequest) => void)[]>();
  let connections = 0;
  const connectionIds = new WeakMap<Socket, number>();
  const openExchanges = new Set<() => void>();

  function handleAsk(
    req: http.IncomingMessage,
    res: http.ServerResponse,
    record: StandinRequest,
    settle: (how: 'completed' | 'aborted') => void,
  ): void {
    const params = record.params;
    const streaming = !['false', 'False', '0'].includes(params.streaming ?? 'true');
    if (behaviour === 'error500') {
      res.writeHead(500, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: 'internal server error' }), () => settle('completed'));
      return;
    }
    const steps = answerScript(params, { style, behaviour, latencyMs, batches, items, endDelayMs });
    const timers: unknown[] = [];
    let finished = false;
    const stop = (): void => {
      for (const t of timers) clock.clearTimeout(t);
      timers.length = 0;
    };
    const cleanup = (): void => {
      stop();
      openExchanges.delete(abortExchange);
    };
    const abortExchange = (): void => {
      cleanup();
      if (!finished) {
        finished = true;
        settle('aborted');
      }
      res.destroy();
    };
    openExchanges.add(abortExchange);
    res.on('close', () => {
      cleanup();
      if (!finished) {
        finished = true;
        settle(res.writableFinished ? 'completed' : 'aborted');
      }
    });

    if (!streaming) {
      if (behaviour === 'hang') return; // never answers; the client's timeout or abort ends it
      const t = clock.setTimeout(() => {
        if (behaviour === 'malformed') {
          res.writeHead(200, { 'content-type': 'application/json' });
          res.end('{"results": [');
          return;
        }
        const body = JSON.stringify(jsonAnswer(steps, style));
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      }, latencyMs);
      timers.push(t);
      return;
    }

    res.writeHead(200, { 'content-type': 'text/event-stream', 'cache-control': 'no-cache', 'x-accel-buffering': 'no' });
    res.write(': keepalive\n\n');
    const keepalive = setInterval(() => res.write(': keepalive\n\n'), keepaliveMs);
    keepalive.unref();
    res.on('close', () => clearInterval(keepalive));

    const run = (step: Step): void => {
      if (res.destroyed) return;
      let text = step.raw ?? '';
      for (const e of step.envelopes ?? []) text += `data: ${JSON.stringify(e)}\n\n`;
      // The last events and the end of the body go out in one write, as one packet.
      if (step.then === 'end') res.end(text === '' ? undefined : text);
      else if (text !== '') res.write(text);
      // Writes are corked until the next tick; destroy after them so what was sent arrives.
      if (step.then === 'destroy') setImmediate(() => res.destroy());
    };
    for (const step of steps) {
      if (step.atMs <= 0) run(step);
      else timers.push(clock.setTimeout(() => run(step), step.atMs));
    }
  }

  const server = http.createServer({ noDelay: true, keepAliveTimeout: 30_000 }, (req, res) => {
    const url = new URL(req.url ?? '/', 'http://standin');
    if (url.pathname === '/health') {
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end('{"status":"ok"}');
      return;
    }
    if (url.pathname !== '/ask' || (req.method !== 'GET' && req.method !== 'POST')) {
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end('{"error":"not found"}');
      return;
    }
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const params: Record<string, string> = {};
      for (const [k, v] of url.searchParams) params[k] = v;
      Object.assign(params, parseForm(Buffer.concat(chunks).toString('utf8'), String(req.headers['content-type'] ?? '')));
      let settle!: (how: 'completed' | 'aborted') => void;
      const closed = new Promise<'completed' | 'aborted'>((resolve) => {
        settle = resolve;
      });
      const record: StandinRequest = {
        method: req.method ?? 'GET',
        path: url.pathname,
        params,
        headers: req.headers,
        connection: connectionIds.get(req.socket) ?? 0,
        closed,
      };
      requests.push(record);
      const list = waiters.get(requests.length - 1);
      waiters.delete(requests.length - 1);
      for (const w of list ?? []) w(record);
      handleAsk(req, res, record, settle);
    });
  });
  const open = new Set<Socket>();
  let noneOpen: Array<() => void> = [];
  server.on('connection', (socket: Socket) => {
    connections++;
    connectionIds.set(socket, connections);
    open.add(socket);
    socket.once('close', () => {
      open.delete(socket);
      if (open.size > 0) return;
      const waiting = noneOpen;
      noneOpen = [];
      for (const resolve of waiting) resolve();
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, options.host ?? '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const host = address.family === 'IPv6' ? `[${address.address}]` : address.address;

  return {
    url: `http://${host}:${address.port}`,
    port: address.port,
    requests,
    get connectionCount() {
      return connections;
    },
    get openConnectionCount() {
      return open.size;
    },
    whenNoConnectionOpen(): Promise<void> {
      if (open.size === 0) return Promise.resolve();
      return new Promise((resolve) => noneOpen.push(resolve));
    },
    setBehaviour(next: StandinBehaviour): void {
      behaviour = next;
    },
    setLatency(next: number): void {
      latencyMs = Math.max(0, next);
    },
    waitForRequest(index: number): Promise<StandinRequest> {
      const existing = requests[index];
      if (existing !== undefined) return Promise.resolve(existing);
      return new Promise((resolve) => {
        const list = waiters.get(index) ?? [];
        list.push(resolve);
        waiters.set(index, list);
      });
    },
    async close(): Promise<void> {
      for (const abort of [...openExchanges]) abort();
      const done = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await done;
    },
  };
}
