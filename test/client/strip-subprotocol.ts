/**
 * What a proxy that does not know `Sec-WebSocket-Protocol` does to an upgrade: it passes the request on,
 * with the header, but drops the header from the server's 101 answer. The WebSocket standard (and `ws`)
 * then fails the handshake of a client that offered a subprotocol.
 */

const HEAD_END = '\r\n\r\n';

/**
 * A per-connection filter of the server → client bytes: holds them until the first response head is
 * complete, drops `Sec-WebSocket-Protocol` from it if it is a 101, and passes everything after it as is.
 */
export function createSubprotocolStripper(): (chunk: Buffer) => Buffer {
  let pending: Buffer | undefined = Buffer.alloc(0);
  return (chunk) => {
    if (pending === undefined) return chunk;
    pending = Buffer.concat([pending, chunk]);
    const end = pending.indexOf(HEAD_END);
    if (end < 0) return Buffer.alloc(0);
    const head = pending.subarray(0, end).toString('latin1');
    const rest = pending.subarray(end);
    pending = undefined;
    if (!/^HTTP\/1\.1 101 /.test(head)) return Buffer.concat([Buffer.from(head, 'latin1'), rest]);
    const kept = head.split('\r\n').filter((line) => !/^sec-websocket-protocol:/i.test(line));
    return Buffer.concat([Buffer.from(kept.join('\r\n'), 'latin1'), rest]);
  };
}
