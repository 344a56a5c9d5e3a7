import type { ChatMessage } from '../actors/message-types';

/**
 * An estimate of the heap one record costs in the memory store, for its byte bound
 * (chat.storage.memory.max_bytes_total). Counting JSON bytes is not enough: V8 spends far more on
 * structure than on text, so 8 KB of metadata as `[{},{},...]` costs ≈ 190 KB of heap and as
 * `{"k0":0,"k1":1,...}` ≈ 60 KB, while 8 KB as one string costs ≈ 8 KB. The estimate charges each
 * object, key, array slot and string what V8 (64-bit, pointer compression off) was measured to spend
 * on it, rounded up, so a record's estimate is at or above its measured heap for the shapes measured
 * (a 40-character text: 320 estimated / ≈ 280 measured; 10,000 characters and 8 KB of metadata as a
 * string: 18.7 / 18.7 KB; as `[{},...]`: 207 / 189 KB; as `{"k0":0,...}`: 68 / 61 KB).
 */

/** The record object, its index entries, short strings (ids, timestamp) and size slot: a 40-character text record measured ≈ 280 bytes in all. */
export const RECORD_OVERHEAD_BYTES = 256;
/** A string's header. */
const STRING_HEADER_BYTES = 24;
/** An object's header and property backing store (an empty frozen object in an array measured ≈ 69 bytes with its slot). */
const OBJECT_BYTES = 64;
/** A property: its key string (keys of large objects are rarely shared) and its dictionary entry (≈ 65 measured with a number value). */
const PROPERTY_BYTES = 56;
/** An array's header. */
const ARRAY_BYTES = 32;
/** An array slot (a pointer), or a boxed number. */
const SLOT_BYTES = 8;
const NUMBER_BYTES = 16;
/** Deeper than this the rest is charged by its JSON length (and the walk stops, so no stack overflow). */
const MAX_DEPTH = 64;
/** What the costliest shape measured spends per JSON character (`[{},{},...]`: ≈ 23). */
const WORST_BYTES_PER_JSON_CHAR = 24;

// V8 stores a string whose code units all fit in one byte with one byte each, else two.
const TWO_BYTE = /[^\u0000-\u00ff]/;

function stringBytes(s: string): number {
  return STRING_HEADER_BYTES + (TWO_BYTE.test(s) ? 2 * s.length : s.length);
}

function valueBytes(value: unknown, depth: number): number {
  switch (typeof value) {
    case 'string':
      return stringBytes(value);
    case 'number':
      return NUMBER_BYTES;
    case 'object': {
      if (value === null) return 0;
      if (depth > MAX_DEPTH) return WORST_BYTES_PER_JSON_CHAR * JSON.stringify(value).length;
      if (Array.isArray(value)) {
        let bytes = ARRAY_BYTES + SLOT_BYTES * value.length;
        for (const item of value) bytes += valueBytes(item, depth + 1);
        return bytes;
      }
      let bytes = OBJECT_BYTES;
      for (const key of Object.keys(value)) {
        bytes += PROPERTY_BYTES + key.length + valueBytes((value as Record<string, unknown>)[key], depth + 1);
      }
      return bytes;
    }
    default:
      return 0; // booleans are shared constants
  }
}

/** Estimated heap bytes of a stored (frozen, JSON-semantics) record. */
export function recordHeapBytes(m: ChatMessage): number {
  let bytes = RECORD_OVERHEAD_BYTES + stringBytes(m.content);
  for (const _ in m.metadata) {
    bytes += valueBytes(m.metadata, 0);
    break;
  }
  return bytes;
}
