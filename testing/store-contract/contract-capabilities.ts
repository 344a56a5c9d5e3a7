import type { ContractContext } from './chat-store.contract';
import { normaliseCapabilities } from './contract-plan';

/** The declaration the groups were chosen by must be the stores' own, or the wrong groups ran. */
export function describeCapabilities(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('capabilities', () => {
    test('the store declares the capabilities the suite was told', async () => {
      const actual = normaliseCapabilities(ctx.store.supports);
      const told = normaliseCapabilities(ctx.supports);
      const differ = (Object.keys(actual) as Array<keyof typeof actual>).filter((key) => actual[key] !== told[key]);
      if (differ.length > 0) {
        throw new Error(
          `${ctx.store.name} declares supports ${JSON.stringify(actual)} but runChatStoreContract was told ${JSON.stringify(told)} ` +
            `(differing: ${differ.join(', ')}): pass { supports } equal to the store's, so the groups that apply run`,
        );
      }
    });

    test('capabilities are consistent with the test subject', async () => {
      const { store, subject } = ctx;
      expect(typeof store.name).toBe('string');
      // A durable store must be reopenable; a volatile one has nothing to reopen.
      expect(subject.reopen !== undefined).toBe(store.supports.durable);
      if (store.supports.sharedAcrossProcesses) expect(store.supports.durable).toBe(true);
    });
  });
}
