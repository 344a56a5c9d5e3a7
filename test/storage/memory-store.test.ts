import { MemoryStore } from '../../storage-providers';
import { runChatStoreContract } from '../contract/chat-store.contract';

runChatStoreContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
// Claims are opt-in for the memory store (two runtimes share one only in tests): the claims group runs here.
runChatStoreContract('memory (claims)', async () => ({ store: new MemoryStore({ claims: true }), cleanup: async () => {} }));
// The whole contract again with a bound: nothing else may change, and the record-bound group trims.
runChatStoreContract('memory (bounded)', async () => ({
  store: new MemoryStore({ maxRecordsPerConversation: 1000, maxRecordsTotal: 2500 }),
  cleanup: async () => {},
}));
