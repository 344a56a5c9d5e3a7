import { Transform, type TransformCallback } from 'node:stream';

/**
 * The bytes a WebSocket client sends, passed on unchanged, with one frame of this server's own put in between two of
 * the client's frames on request. A forwarding server (owner-forwarding.ts) pipes a client's WebSocket to its
 * conversation's holder without reading it; to close it at shutdown it must speak on the client's behalf, and a frame
 * put into the middle of one of the client's would corrupt the stream. So this reads only the frame headers (RFC 6455
 * section 5.2: two bytes, an extended length of 2 or 8, a masking key of 4) to know where each frame ends.
 *
 * Once the frame is in, nothing more of the client's goes through: after a close frame the peer reads nothing else.
 */
export class ClientFrameGate extends Transform {
  /**
   * Header bytes of the frame now arriving (`headerBytes` of them), until the whole header is in. One buffer of the
   * longest header (2 + 8 + 4), reused: nothing is allocated per frame.
   */
  private readonly header = Buffer.alloc(MAX_HEADER_BYTES);
  private headerBytes = 0;
  /** Payload bytes of the current frame still to pass. */
  private payloadLeft = 0;
  private insert: Buffer | undefined;
  private stopped = false;

  /**
   * Puts `frame` on the stream at the next boundary between the client's frames (at once when between two) and
   * passes nothing of the client's after it. A second call changes nothing.
   */
  insertAtBoundary(frame: Buffer): void {
    if (this.stopped || this.insert !== undefined) return;
    this.insert = frame;
    if (this.atBoundary()) this.pushInsert();
  }

  /** Whether the frame was put on the stream (the client's bytes stopped there). */
  get inserted(): boolean {
    return this.stopped;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback): void {
    if (this.stopped) return callback();
    let offset = 0;
    while (offset < chunk.length) {
      if (this.payloadLeft > 0) {
        const n = Math.min(this.payloadLeft, chunk.length - offset);
        offset += n;
        this.payloadLeft -= n;
        continue;
      }
      if (this.insert !== undefined && this.headerBytes === 0) {
        if (offset > 0) this.push(chunk.subarray(0, offset));
        this.pushInsert();
        return callback();
      }
      const n = Math.min(headerLength(this.header, this.headerBytes) - this.headerBytes, chunk.length - offset);
      chunk.copy(this.header, this.headerBytes, offset, offset + n);
      this.headerBytes += n;
      offset += n;
      // Two bytes tell how long the header is: read it again until it has all it says.
      if (this.headerBytes === headerLength(this.header, this.headerBytes)) {
        this.payloadLeft = payloadLength(this.header);
        this.headerBytes = 0;
      }
    }
    this.push(chunk);
    if (this.insert !== undefined && this.atBoundary()) this.pushInsert();
    callback();
  }

  private atBoundary(): boolean {
    return this.headerBytes === 0 && this.payloadLeft === 0;
  }

  private pushInsert(): void {
    this.push(this.insert);
    this.insert = undefined;
    this.stopped = true;
  }
}

/** The longest frame header: two bytes, an extended length of 8, a masking key of 4. */
const MAX_HEADER_BYTES = 14;

/** The header's length, as far as its first two bytes tell (2 until they are in: `bytes` of it so far). */
function headerLength(header: Buffer, bytes: number): number {
  if (bytes < 2) return 2;
  const length7 = header[1]! & 0x7f;
  const extended = length7 === 126 ? 2 : length7 === 127 ? 8 : 0;
  const mask = (header[1]! & 0x80) !== 0 ? 4 : 0;
  return 2 + extended + mask;
}

/** The payload length a complete header gives. */
function payloadLength(header: Buffer): number {
  const length7 = header[1]! & 0x7f;
  if (length7 === 126) return header.readUInt16BE(2);
  // Past 2^53 the holder refuses the frame anyway (server.websocket.max_frame_bytes); a bound, not a count, then.
  if (length7 === 127) return Number(header.readBigUInt64BE(2));
  return length7;
}
