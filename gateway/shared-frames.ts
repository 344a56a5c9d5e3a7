import type { ChatMessage } from '../actors/message-types';
import type { ServerFrame } from './protocol/server-frames';
import { encodeTextFrame } from './text-frames';

/**
 * Serialises a `message` frame once per record, as a complete WebSocket text frame, and caches it for
 * every other recipient: each socket then writes the same bytes, with nothing measured, encoded or
 * framed again per recipient.
 */
export function messageFrameBytes(cache: WeakMap<object, Buffer>, message: ChatMessage): Buffer {
  return sharedFrameBytes(cache, message, () => ({ type: 'message', message }));
}

/**
 * The cached WebSocket frame (text-frames.ts) of the server frame built for `key` (built and cached on
 * first use). The cache is a WeakMap keyed by the record or broadcast output, so entries go away with
 * the object.
 */
export function sharedFrameBytes(cache: WeakMap<object, Buffer>, key: object, build: () => ServerFrame): Buffer {
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = encodeTextFrame(JSON.stringify(build()));
    cache.set(key, bytes);
  }
  return bytes;
}
