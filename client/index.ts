/** The reference client: `import { createChatClient } from 'nlweb-chat/client'`. */
export * from './chat-client';
export * from './backoff';
export * from './protocol-frames';
export * from './message-limits';
export * from './typed-emitter';
