import * as http from 'node:http';
import * as https from 'node:https';
import { ChatError } from '../errors';

/**
 * One HTTP exchange with an NLWeb /ask endpoint, read by pulling text chunks. It owns the
 * timeout timer and the abort listener, and classifies every way the exchange can fail into one
 * error code, so the agent's loop stays a plain "pull, parse, yield".
 */
export interface NlwebAskCall {
  /** Resolves with the response status and content type, or rejects with a ChatError. */
  readonly response: Promise<{ status: number; contentType: string }>;
  /** Next decoded text chunk; null at the end of the body or once the caller's signal aborted. */
  next(): Promise<string | null>;
  /** True once the caller's signal aborted the exchange. */
  readonly cancelled: boolean;
  /**
   * The answer is complete: stop the timer and let the rest of the body drain in the background
   * so the socket returns to the keep-alive pool instead of being destroyed.
   */
  release(): void;
  /** Ends the exchange; anything still open is destroyed (the socket is not reused). */
  dispose(): void;
  /** Resolves once the response is fully read or the exchange is gone (never rejects). */
  whenDone(): Promise<void>;
}

/** Where the request goes; precomputed per endpoint so a call parses no URL. */
export interface NlwebAskTarget {
  readonly protocol: 'http:' | 'https:';
  /** Without IPv6 brackets. */
  readonly hostname: string;
  readonly port: number;
  /** Path and query string, e.g. `/ask?query=...`. */
  readonly path: string;
}

export interface NlwebAskCallOptions {
  readonly target: NlwebAskTarget;
  readonly method: 'GET' | 'POST';
  readonly headers: Record<string, string>;
  readonly body?: string;
  readonly agent: http.Agent;
  readonly timeoutMs: number;
  readonly signal: AbortSignal;
}

/** Longest a released response may take to finish before its socket is destroyed instead. */
const DRAIN_GRACE_MS = 2000;

/** Starts the request immediately. */
export function startNlwebAskCall(options: NlwebAskCallOptions): NlwebAskCall {
  const chunks: string[] = [];
  let ended = false;
  let failure: ChatError | undefined;
  let cancelled = false;
  let settled = false; // released or disposed
  let waiter: (() => void) | undefined;
  let res: http.IncomingMessage | undefined;
  let markDone!: () => void;
  const done = new Promise<void>((resolve) => {
    markDone = resolve;
  });
  let resolveResponse!: (v: { status: number; contentType: string }) => void;
  let rejectResponse!: (e: unknown) => void;
  const response = new Promise<{ status: number; contentType: string }>((resolve, reject) => {
    resolveResponse = resolve;
    rejectResponse = reject;
  });
  // The agent awaits `response` only in the normal path; a failure must never be unhandled.
  response.catch(() => undefined);

  const wake = (): void => {
    const w = waiter;
    waiter = undefined;
    w?.();
  };
  const fail = (err: ChatError): void => {
    if (failure !== undefined || cancelled || settled) return;
    failure = err;
    rejectResponse(err);
    wake();
  };

  const { target } = options;
  const transport = target.protocol === 'https:' ? https : http;
  const headers: Record<string, string> = { ...options.headers };
  if (options.method === 'POST') {
    headers['content-length'] = String(options.body === undefined ? 0 : Buffer.byteLength(options.body));
    if (options.body !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  }
  const req = transport.request({
    hostname: target.hostname,
    port: target.port,
    path: target.path,
    method: options.method,
    agent: options.agent,
    headers,
  });
  // Each SSE event is a small write; Nagle would hold it back behind the previous one.
  req.setNoDelay(true);

  const timer = setTimeout(() => {
    fail(
      new ChatError('AGENT_ERR_TIMEOUT', `NLWeb did not complete within ${options.timeoutMs} ms`, {
        details: { timeout_ms: options.timeoutMs },
      }),
    );
    req.destroy();
  }, options.timeoutMs);
  timer.unref();

  const onAbort = (): void => {
    if (settled) return;
    cancelled = true;
    rejectResponse(new ChatError('AGENT_ERR_CANCELLED'));
    req.destroy();
    wake();
  };
  options.signal.addEventListener('abort', onAbort, { once: true });

  req.on('close', () => {
    if (res === undefined) markDone();
  });
  req.on('error', (err: NodeJS.ErrnoException) => {
    if (res === undefined) {
      fail(
        new ChatError('AGENT_ERR_CONNECTION', `NLWeb endpoint unreachable: ${err.code ?? err.message}`, {
          cause: err,
          details: { code: err.code },
        }),
      );
    } else {
      fail(new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb stream closed before its end', { cause: err }));
    }
  });
  req.on('response', (incoming) => {
    res = incoming;
    const status = incoming.statusCode ?? 0;
    const contentType = String(incoming.headers['content-type'] ?? '');
    incoming.setEncoding('utf8');
    incoming.on('data', (chunk: string) => {
      if (settled) return;
      chunks.push(chunk);
      wake();
    });
    incoming.on('end', () => {
      ended = true;
      markDone();
      clearTimeout(timer);
      wake();
    });
    incoming.on('error', (err) => fail(new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb stream closed before its end', { cause: err })));
    incoming.on('close', () => {
      markDone();
      if (!ended) fail(new ChatError('AGENT_ERR_MALFORMED_STREAM', 'NLWeb stream closed before its end'));
    });
    resolveResponse({ status, contentType });
  });
  req.end(options.body);

  function cleanup(): void {
    settled = true;
    clearTimeout(timer);
    options.signal.removeEventListener('abort', onAbort);
    wake();
  }

  return {
    response,
    get cancelled() {
      return cancelled;
    },
    async next(): Promise<string | null> {
      for (;;) {
        if (cancelled) return null;
        if (chunks.length > 0) {
          const text = chunks.length === 1 ? chunks[0]! : chunks.join('');
          chunks.length = 0;
          return text;
        }
        if (failure !== undefined) throw failure;
        if (ended || settled) return null;
        await new Promise<void>((resolve) => {
          waiter = resolve;
        });
      }
    },
    release(): void {
      if (settled) return;
      cleanup();
      chunks.length = 0;
      if (res !== undefined && !ended) {
        const r = res;
        r.resume();
        const guard = setTimeout(() => req.destroy(), DRAIN_GRACE_MS);
        guard.unref();
        r.once('end', () => clearTimeout(guard));
        r.once('close', () => clearTimeout(guard));
      }
    },
    dispose(): void {
      if (settled) return;
      cleanup();
      if (!ended || res === undefined) req.destroy();
      markDone();
    },
    whenDone(): Promise<void> {
      return done;
    },
  };
}
