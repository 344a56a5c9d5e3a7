import { MemoryStore, type MemoryStoreOptions } from '../../storage-providers';
import { runChatStoreContract } from '../../testing';

/** The contract on memory stores made with `options`; the groups it runs follow their `supports`. */
function runOnMemory(name: string, options: MemoryStoreOptions = {}): void {
  const supports = new MemoryStore(options).supports;
  runChatStoreContract(name, async () => ({ store: new MemoryStore(options), cleanup: async () => {} }), {
    supports,
    omitInapplicable: true,
  });
}

runOnMemory('memory');
// Claims are opt-in for the memory store (two runtimes share one only in tests): the claims group runs here.
runOnMemory('memory (claims)', { claims: true });
// The whole contract again with a bound: nothing else may change, and the record-bound groups trim.
runOnMemory('memory (bounded)', { maxRecordsPerConversation: 1000, maxRecordsTotal: 2500 });
