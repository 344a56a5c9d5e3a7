/**
 * Why a human post's metadata is too large to take, or undefined. Content is bounded by
 * chat.limits.max_message_length, but metadata was bounded only by the frame (64 KiB): one user posting at the rate
 * limit with 60 KB of metadata grew the memory store by ~230 MB in 20 s (the memory bound counts records, not
 * bytes), and a database by as much. Measured as the JSON the store keeps, in UTF-8 bytes; `maxBytes` 0: no bound.
 */
export function metadataSizeProblem(metadata: Readonly<Record<string, unknown>> | undefined, maxBytes: number): string | undefined {
  if (metadata === undefined || maxBytes === 0) return undefined;
  const bytes = Buffer.byteLength(JSON.stringify(metadata), 'utf8');
  return bytes > maxBytes ? `metadata is ${bytes} bytes as JSON, over chat.limits.max_metadata_bytes (${maxBytes})` : undefined;
}
