/** The WebSocket protocol: frame types and JSON Schemas for both directions, and their validator. */
export * from './client-frames';
export * from './server-frames';
export * from './frame-validator';
