/**
 * An incremental Server-Sent Events parser (the `text/event-stream` format NLWeb streams).
 * Text may arrive split anywhere, even between the CR and LF of one line break; the parser keeps
 * the unfinished line and event between calls, so any split of a stream yields the same events.
 */

/** One dispatched event. NLWeb sends only `data:` lines, so `event` is almost always 'message'. */
export interface SseEvent {
  readonly event: string;
  /** The `data:` lines of the event joined with '\n'. */
  readonly data: string;
  /** The last `id:` seen (SSE ids persist across events), if any. */
  readonly id?: string;
}

export interface SseParser {
  /** Feeds decoded text; returns the events completed by it (possibly none). */
  push(text: string): SseEvent[];
  /**
   * Ends the stream. Unlike a browser EventSource, a final event without its closing blank line is
   * dispatched: servers that end the response right after the last `data:` line lose nothing.
   */
  end(): SseEvent[];
  /** Comment lines seen so far (`: keepalive`); they carry no data and are never dispatched. */
  readonly comments: number;
}

/** Creates a parser with its own buffer; one per HTTP response. */
export function createSseParser(): SseParser {
  let line = '';
  // A chunk that ended in CR may be followed by the LF of the same line break in the next chunk.
  let skipLeadingLf = false;
  let data: string[] = [];
  let hasData = false;
  let eventName = '';
  let lastId: string | undefined;
  let comments = 0;

  function dispatch(out: SseEvent[]): void {
    if (hasData) {
      const ev: SseEvent =
        lastId === undefined
          ? { event: eventName || 'message', data: data.join('\n') }
          : { event: eventName || 'message', data: data.join('\n'), id: lastId };
      out.push(ev);
    }
    data = [];
    hasData = false;
    eventName = '';
  }

  function processLine(text: string, out: SseEvent[]): void {
    if (text === '') {
      dispatch(out);
      return;
    }
    if (text.charCodeAt(0) === 58 /* ':' */) {
      comments++;
      return;
    }
    const colon = text.indexOf(':');
    let field: string;
    let value: string;
    if (colon === -1) {
      field = text;
      value = '';
    } else {
      field = text.slice(0, colon);
      // Exactly one optional space after the colon belongs to the syntax, not the value.
      value = text.charCodeAt(colon + 1) === 32 ? text.slice(colon + 2) : text.slice(colon + 1);
    }
    switch (field) {
      case 'data':
        data.push(value);
        hasData = true;
        break;
      case 'event':
        eventName = value;
        break;
      case 'id':
        if (!value.includes('\0')) lastId = value;
        break;
      default:
        // 'retry' and unknown fields do not matter to a one-shot HTTP client.
        break;
    }
  }

  function push(text: string): SseEvent[] {
    const out: SseEvent[] = [];
    let start = 0;
    if (skipLeadingLf && text.length > 0) {
      if (text.charCodeAt(0) === 10) start = 1;
      skipLeadingLf = false;
    }
    for (let i = start; i < text.length; i++) {
      const c = text.charCodeAt(i);
      if (c !== 10 && c !== 13) continue;
      const piece = line + text.slice(start, i);
      line = '';
      processLine(piece, out);
      if (c === 13) {
        if (i + 1 < text.length) {
          if (text.charCodeAt(i + 1) === 10) i++;
        } else {
          skipLeadingLf = true;
        }
      }
      start = i + 1;
    }
    if (start < text.length) line += text.slice(start);
    return out;
  }

  function end(): SseEvent[] {
    const out: SseEvent[] = [];
    if (line !== '') {
      const last = line;
      line = '';
      processLine(last, out);
    }
    dispatch(out);
    skipLeadingLf = false;
    return out;
  }

  return {
    push,
    end,
    get comments() {
      return comments;
    },
  };
}
