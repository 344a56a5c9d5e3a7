import { MemoryStore } from '../../storage-providers';
import { runChatStoreContract } from '../contract/chat-store.contract';

runChatStoreContract('memory', async () => ({ store: new MemoryStore(), cleanup: async () => {} }));
