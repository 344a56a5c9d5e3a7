/**
 * A small Server-Sent Events reader over fetch (Node 20 has no EventSource): parses the stream as the HTML spec's
 * EventSource does (id, event, data, retry, comments), keeps every event with the last event id seen so far.
 */
export interface SseEvent {
  readonly event: string;
  /** The `id:` field of this event, if it had one. */
  readonly id: string | undefined;
  readonly data: string;
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly json: any;
}

export interface SseOpenAnswer {
  readonly status: number;
  readonly headers: Headers;
  /** The parsed JSON body of a refusal (status other than 200). */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  readonly body?: any;
  readonly stream?: SseReader;
}

type Waiter = { match: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void; reject: (err: Error) => void };

const readers = new Set<SseReader>();

/** For afterEach: aborts every reader still open. */
export async function closeReaders(): Promise<void> {
  const open = [...readers];
  readers.clear();
  await Promise.all(open.map((r) => r.close()));
}

/** Opens `url`; a 200 answer becomes a reader, any other its JSON body. */
export async function openEvents(url: string, headers: Record<string, string> = {}): Promise<SseOpenAnswer> {
  const abort = new AbortController();
  const res = await fetch(url, { headers: { accept: 'text/event-stream', ...headers }, signal: abort.signal });
  if (res.status !== 200) {
    const text = await res.text();
    let body: unknown = text;
    try {
      body = JSON.parse(text);
    } catch {
      // not JSON: keep the text so assertions show it
    }
    return { status: res.status, headers: res.headers, body };
  }
  const stream = new SseReader(res, abort);
  readers.add(stream);
  return { status: res.status, headers: res.headers, stream };
}

export class SseReader {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  retry: number | undefined;
  /** The last event id seen (what EventSource would send as Last-Event-ID). */
  lastEventId = '';
  /** Resolves when the server ended the stream (or it was aborted). */
  readonly ended: Promise<void>;
  private waiters: Waiter[] = [];
  private done = false;

  constructor(
    res: Response,
    private readonly abort: AbortController,
  ) {
    this.ended = this.pump(res).finally(() => {
      this.done = true;
      for (const w of this.waiters) w.reject(new Error(`stream ended; events: ${this.events.map((e) => e.event).join(',')}`));
      this.waiters = [];
    });
  }

  /** The first event (already received or to come) that matches. */
  next(match: (e: SseEvent) => boolean): Promise<SseEvent> {
    const seen = this.events.find(match);
    if (seen) return Promise.resolve(seen);
    if (this.done) return Promise.reject(new Error('stream ended'));
    return new Promise((resolve, reject) => this.waiters.push({ match, resolve, reject }));
  }

  /** Events of one type, in order. */
  ofType(type: string): SseEvent[] {
    return this.events.filter((e) => e.event === type);
  }

  async close(): Promise<void> {
    readers.delete(this);
    this.abort.abort();
    await this.ended.catch(() => undefined);
  }

  private async pump(res: Response): Promise<void> {
    const decoder = new TextDecoder();
    let buffered = '';
    try {
      for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
        buffered += decoder.decode(chunk, { stream: true });
        for (let end = buffered.indexOf('\n\n'); end >= 0; end = buffered.indexOf('\n\n')) {
          this.block(buffered.slice(0, end));
          buffered = buffered.slice(end + 2);
        }
      }
    } catch {
      // aborted or reset: the stream ends here
    }
  }

  private block(text: string): void {
    let event = 'message';
    let id: string | undefined;
    const data: string[] = [];
    for (const line of text.split('\n')) {
      if (line.startsWith(':')) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') event = value;
      else if (field === 'data') data.push(value);
      else if (field === 'id') id = value;
      else if (field === 'retry') this.retry = Number(value);
    }
    if (id !== undefined) this.lastEventId = id;
    if (data.length === 0) return;
    const joined = data.join('\n');
    const parsed: SseEvent = { event, id, data: joined, json: JSON.parse(joined) };
    this.events.push(parsed);
    const ready = this.waiters.filter((w) => w.match(parsed));
    this.waiters = this.waiters.filter((w) => !w.match(parsed));
    for (const w of ready) w.resolve(parsed);
  }
}
