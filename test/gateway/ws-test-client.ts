import http from 'node:http';
import WebSocket, { type ClientOptions } from 'ws';
import { createFrameValidator } from '../../gateway/protocol/frame-validator';
import type { ServerFrame } from '../../gateway/protocol/server-frames';

type FrameOf<T extends ServerFrame['type']> = Extract<ServerFrame, { type: T }>;

/** Every frame the server sends is checked against the server-frame schemas; tests assert none failed. */
const validator = createFrameValidator();

interface Waiter {
  readonly predicate: (frame: ServerFrame) => boolean;
  readonly resolve: (frame: ServerFrame) => void;
  readonly reject: (err: Error) => void;
}

/**
 * A real `ws` client that records every frame, validates it, and lets a test await frames or the
 * close event (no sleeps). `frames` keeps everything received, in order.
 */
export class TestClient {
  readonly frames: ServerFrame[] = [];
  readonly invalid: string[] = [];
  readonly ws: WebSocket;
  readonly opened: Promise<void>;
  readonly closed: Promise<{ code: number; reason: string }>;
  private readonly waiters = new Set<Waiter>();
  private cursor = 0;

  /** `protocols`: the subprotocols offered in Sec-WebSocket-Protocol (none by default). */
  constructor(url: string, options: ClientOptions = {}, protocols: readonly string[] = []) {
    this.ws = new WebSocket(url, [...protocols], options);
    this.opened = new Promise((resolve, reject) => {
      this.ws.once('open', () => resolve());
      this.ws.once('unexpected-response', (_req, res) => {
        reject(Object.assign(new Error(`unexpected response ${res.statusCode}`), { statusCode: res.statusCode }));
        res.resume();
        this.ws.terminate();
      });
      this.ws.once('error', reject);
    });
    this.opened.catch(() => undefined);
    this.ws.on('error', () => undefined);
    this.closed = new Promise((resolve) => {
      this.ws.once('close', (code, reason) => {
        for (const w of this.waiters) w.reject(new Error(`socket closed (${code}) while waiting for a frame`));
        this.waiters.clear();
        resolve({ code, reason: reason.toString() });
      });
    });
    this.ws.on('message', (data) => {
      const text = data.toString();
      const frame = JSON.parse(text) as ServerFrame;
      const checked = validator.server(frame);
      if (!checked.ok) this.invalid.push(`${checked.message}: ${text.slice(0, 300)}`);
      this.frames.push(frame);
      for (const w of [...this.waiters]) {
        if (w.predicate(frame)) {
          this.waiters.delete(w);
          w.resolve(frame);
        }
      }
    });
  }

  send(frame: unknown): void {
    this.ws.send(typeof frame === 'string' ? frame : JSON.stringify(frame));
  }

  /** Resolves with the first frame (from the start, including already received ones) matching. */
  waitFor<T extends ServerFrame['type']>(type: T, predicate: (frame: FrameOf<T>) => boolean = () => true): Promise<FrameOf<T>> {
    const match = (f: ServerFrame): boolean => f.type === type && predicate(f as FrameOf<T>);
    const found = this.frames.find(match);
    if (found) return Promise.resolve(found as FrameOf<T>);
    return new Promise((resolve, reject) => {
      this.waiters.add({ predicate: match, resolve: (f) => resolve(f as FrameOf<T>), reject });
    });
  }

  /** Like waitFor, but only frames after the previous `next` result (a cursor through the stream). */
  next<T extends ServerFrame['type']>(type: T, predicate: (frame: FrameOf<T>) => boolean = () => true): Promise<FrameOf<T>> {
    const match = (f: ServerFrame): boolean => f.type === type && predicate(f as FrameOf<T>);
    for (let i = this.cursor; i < this.frames.length; i++) {
      if (match(this.frames[i])) {
        this.cursor = i + 1;
        return Promise.resolve(this.frames[i] as FrameOf<T>);
      }
    }
    return new Promise((resolve, reject) => {
      this.waiters.add({
        predicate: match,
        resolve: (f) => {
          this.cursor = this.frames.indexOf(f) + 1;
          resolve(f as FrameOf<T>);
        },
        reject,
      });
    });
  }

  /** Sequence ids of every `message` frame received, in arrival order. */
  sequenceIds(filter: (m: FrameOf<'message'>['message']) => boolean = () => true): number[] {
    return this.frames.filter((f): f is FrameOf<'message'> => f.type === 'message' && filter(f.message)).map((f) => f.message.sequence_id);
  }

  /** Resolves once `condition` holds (checked now and after every frame). */
  until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve, reject) => {
      this.waiters.add({ predicate: () => condition(), resolve: () => resolve(), reject });
    });
  }

  /** Highest sequence id received in a `message` frame (0 before any). */
  lastSequenceId(): number {
    return this.sequenceIds().reduce((a, b) => Math.max(a, b), 0);
  }

  /** Resolves once a message frame with sequence_id >= seq arrived. */
  waitForSequence(seq: number): Promise<FrameOf<'message'>> {
    return this.waitFor('message', (f) => f.message.sequence_id >= seq);
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    if (this.ws.readyState === WebSocket.CONNECTING) this.ws.terminate();
    else this.ws.close(1000);
    await this.closed;
  }
}

/**
 * `client` posts `live-0`, `live-1`, ... without pause, each after the previous one's ack, until stop(), which
 * resolves with the sequence id of the last one acked: live traffic for a seam test (a resume, a history replay).
 */
export function postContinuously(client: TestClient): { readonly acked: () => number; stop(): Promise<number> } {
  let stopped = false;
  let acked = 0;
  let last = 0;
  const posting = (async () => {
    for (let n = 0; !stopped; n++) {
      const id = `live-${n}`;
      client.send({ type: 'message', message_id: id, content: id });
      last = (await client.waitFor('message_ack', (a) => a.message_id === id)).sequence_id;
      acked++;
    }
  })();
  return {
    acked: () => acked,
    async stop() {
      stopped = true;
      await posting;
      return last;
    },
  };
}

/** Opens a client and waits until the server says `connected` (throws with statusCode on HTTP refusal). */
export async function connectClient(url: string, options: ClientOptions = {}): Promise<TestClient> {
  const client = new TestClient(url, options);
  await client.opened;
  await client.waitFor('connected');
  return client;
}

/** Opens a socket that must be refused before the upgrade; resolves with the HTTP status. */
export async function refusedStatus(url: string, options: ClientOptions = {}): Promise<number> {
  const client = new TestClient(url, options);
  try {
    await client.opened;
  } catch (err) {
    await client.closed;
    return (err as { statusCode?: number }).statusCode ?? -1;
  }
  await client.close();
  return 101;
}

/** How an upgrade offering subprotocols ended: refused over HTTP (status), or upgraded then closed. */
export interface UpgradeOutcome {
  /** The HTTP status: 101 when the handshake completed. */
  readonly status: number;
  /** The subprotocol the server selected ('' for none or an HTTP refusal). */
  readonly protocol: string;
  /** Every frame received before the close. */
  readonly frames: readonly ServerFrame[];
  /** The close frame's code and reason (1006 and '' after an HTTP refusal). */
  readonly close: { code: number; reason: string };
}

/** Opens a socket offering `protocols` and waits for it to end by itself (a refusal), closing nothing. */
export async function upgradeOutcome(url: string, protocols: readonly string[], options: ClientOptions = {}): Promise<UpgradeOutcome> {
  const client = new TestClient(url, options, protocols);
  const status = await client.opened.then(
    () => 101,
    (err: { statusCode?: number }) => err.statusCode ?? -1,
  );
  const close = await client.closed;
  return { status, protocol: client.ws.protocol, frames: client.frames, close };
}

/**
 * An upgrade request without subprotocols (plus `headers`, e.g. a browser's Origin), read as the plain HTTP answer
 * that refuses it: status, headers and JSON body. Rejects if the upgrade is accepted.
 */
export function upgradeRefusal(
  url: string,
  headers: Record<string, string> = {},
): Promise<{ status: number; headers: http.IncomingHttpHeaders; body: unknown }> {
  return new Promise((resolve, reject) => {
    const req = http.get(url.replace(/^ws/, 'http'), {
      headers: {
        Connection: 'Upgrade',
        Upgrade: 'websocket',
        'Sec-WebSocket-Key': 'dGhlIHNhbXBsZSBub25jZQ==',
        'Sec-WebSocket-Version': '13',
        ...headers,
      },
    });
    req.on('upgrade', (_res, socket) => {
      socket.destroy();
      reject(new Error('the upgrade was accepted'));
    });
    req.on('response', (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? -1, headers: res.headers, body: JSON.parse(text) as unknown }));
    });
    req.on('error', reject);
  });
}

/** The plain HTTP refusal of an upgrade: its status and JSON body. */
export async function refusedAnswer(url: string, headers: Record<string, string> = {}): Promise<{ status: number; body: unknown }> {
  const { status, body } = await upgradeRefusal(url, headers);
  return { status, body };
}
