/**
 * Server-to-client WebSocket text frames (RFC 6455 §5.2), encoded here so a frame is one Buffer:
 * FIN + opcode 1, no mask (a server never masks), and the payload length in 7, 16 or 64 bits.
 *
 * Why not ws.send: for every send ws builds two option objects, a header Buffer and a two-element list,
 * and writes header and payload as two chunks. A `message` frame goes to every member of a conversation,
 * so the gateway frames it once here and each recipient costs one write of the same bytes (frame-sender.ts).
 * It is only correct while ws writes synchronously to the socket, i.e. without permessage-deflate, which
 * the gateway never negotiates (chat-gateway.ts): then ws frames and ours go out in call order.
 */

const FIN_TEXT = 0x81;

/** The header's bytes for a payload of this many bytes. */
export function textFrameHeaderLength(payloadBytes: number): number {
  if (payloadBytes < 126) return 2;
  return payloadBytes <= 0xffff ? 4 : 10;
}

/** Writes the header at the start of `frame`; returns where the payload starts. */
export function writeTextFrameHeader(frame: Buffer, payloadBytes: number): number {
  frame[0] = FIN_TEXT;
  if (payloadBytes < 126) {
    frame[1] = payloadBytes;
  } else if (payloadBytes <= 0xffff) {
    frame[1] = 126;
    frame.writeUInt16BE(payloadBytes, 2);
  } else {
    frame[1] = 127;
    frame.writeUInt32BE(Math.floor(payloadBytes / 2 ** 32), 2);
    frame.writeUInt32BE(payloadBytes >>> 0, 6);
  }
  return textFrameHeaderLength(payloadBytes);
}

/** One text frame carrying `payload` (UTF-8), header and payload in a single Buffer. */
export function encodeTextFrame(payload: string): Buffer {
  const payloadBytes = Buffer.byteLength(payload, 'utf8');
  const frame = Buffer.allocUnsafe(textFrameHeaderLength(payloadBytes) + payloadBytes);
  const offset = writeTextFrameHeader(frame, payloadBytes);
  frame.write(payload, offset, 'utf8');
  return frame;
}
