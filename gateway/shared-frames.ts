import type { ChatMessage } from '../actors/message-types';
import type { ServerFrame } from './protocol/server-frames';

/**
 * Serialises a `message` frame once per record, as UTF-8 bytes, and caches it for every other recipient:
 * ws writes a Buffer as is, where a string would be measured and encoded again for each socket.
 */
export function messageFrameBytes(cache: WeakMap<object, Buffer>, message: ChatMessage): Buffer {
  return sharedFrameBytes(cache, message, () => ({ type: 'message', message }));
}

/**
 * The cached bytes of the frame built for `key` (built and cached on first use). The cache is a
 * WeakMap keyed by the record or broadcast output, so entries go away with the object.
 */
export function sharedFrameBytes(cache: WeakMap<object, Buffer>, key: object, build: () => ServerFrame): Buffer {
  let bytes = cache.get(key);
  if (bytes === undefined) {
    bytes = Buffer.from(JSON.stringify(build()), 'utf8');
    cache.set(key, bytes);
  }
  return bytes;
}
