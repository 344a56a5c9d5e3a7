import { isChatError, type ErrorCode } from '../../actors/errors';
import type { ChatStore, StoreCapabilities } from '../../storage-providers/chat-store';
import { describeCapabilities } from './contract-capabilities';
import { describeClaims } from './contract-claims';
import { describeConversationActivity } from './contract-activity';
import { describeContentReplacement } from './contract-content-replacement';
import { describeConversations } from './contract-conversations';
import { describeDurability } from './contract-durability';
import { describeJournal } from './contract-journal';
import {
  declares,
  MINIMAL_CAPABILITIES,
  OPTIONAL_GROUPS,
  skipReason,
  type ContractCapability,
  type OptionalGroupTitle,
} from './contract-plan';
import { describeReadPositions, describeUnreadCounts } from './contract-read-positions';
import { describeRecordBound } from './contract-record-bound';
import { describeReservation } from './contract-reservation';
import { resolveRunner, type ContractRunner, type TestFn } from './contract-runner';
import { meta, msg, msgs, person } from './fixtures';

/** What a provider's test hands the contract suite. */
export interface ContractSubject {
  /** A new, not yet opened store on an empty, isolated location. */
  readonly store: ChatStore;
  /** Durable providers: a new, not yet opened instance on the same location. */
  readonly reopen?: () => Promise<ChatStore>;
  /** Removes the location (temp file, schema). Called after every store was closed. */
  readonly cleanup: () => Promise<void>;
}

export type ContractFactory = () => Promise<ContractSubject>;

export interface ContractOptions {
  /**
   * The `supports` of the stores the factory makes. The optional groups are chosen from it while the
   * runner collects the tests, before any store exists; a mandatory test then checks that every store
   * declares exactly this. Default: no optional capability (not durable, not shared, no reservation, no
   * claims, unbounded).
   */
  readonly supports?: StoreCapabilities;
  /** describe / test / beforeEach / afterEach / expect of your runner. Default: the runner's globals (jest). */
  readonly runner?: ContractRunner;
  /**
   * Leave out the optional groups the declared `supports` rule out, instead of registering them as skipped. For
   * a suite that runs several configurations of one provider (ours: the memory store with and without claims or
   * bounds), where a group that cannot apply to a configuration is not a skipped test. Default false: a provider's
   * author sees each group it does not run, with the reason.
   */
  readonly omitInapplicable?: boolean;
}

/** Shared state of one contract test. */
export interface ContractContext {
  /** The open store of the current test. */
  readonly store: ChatStore;
  readonly subject: ContractSubject;
  /** Opens another instance on the same location (closed after the test). */
  reopen(): Promise<ChatStore>;
  readonly runner: ContractRunner;
  /** What the caller declared (the stores' `supports`, checked by the capabilities group). */
  readonly supports: StoreCapabilities;
  /** Registers an optional group: run when the store declares what it needs, else skipped with the reason in its title. */
  group(title: OptionalGroupTitle, body: () => void): void;
  /** `test`, or (when the store does not declare `capability`) `test.skip` with the reason in the test's name. */
  testIf(capability: ContractCapability): TestFn;
}

/** Asserts that `promise` rejects with a ChatError of `code`. */
export async function expectCode(promise: Promise<unknown>, code: ErrorCode): Promise<void> {
  let error: unknown;
  try {
    await promise;
  } catch (err) {
    error = err;
  }
  if (!isChatError(error, code)) {
    throw new Error(`expected ChatError ${code}, got ${error === undefined ? 'success' : String((error as Error).stack ?? error)}`);
  }
}

/**
 * The storage contract every ChatStore provider must pass, registered as one describe block of the
 * calling test file. Mandatory groups run for every store; the optional ones (durability with reopen,
 * sequence reservation, record bounds, claims) run when `options.supports` declares what they need and
 * are otherwise registered as skipped, the reason in their title (planChatStoreContract lists them).
 */
export function runChatStoreContract(name: string, factory: ContractFactory, options: ContractOptions = {}): void {
  const runner = resolveRunner(options.runner);
  const supports = options.supports ?? MINIMAL_CAPABILITIES;
  const { describe, test, beforeEach, afterEach } = runner;
  describe(`ChatStore contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const opened: ChatStore[] = [];
    const ctx: ContractContext = {
      get store() {
        if (!subject) throw new Error('no store: beforeEach did not run');
        return subject.store;
      },
      get subject() {
        if (!subject) throw new Error('no store: beforeEach did not run');
        return subject;
      },
      async reopen() {
        if (!subject?.reopen) throw new Error(`${name} has no reopen()`);
        const other = await subject.reopen();
        opened.push(other);
        await other.open();
        return other;
      },
      runner,
      supports,
      group(title, body) {
        const needs = OPTIONAL_GROUPS.find((g) => g.title === title)!.needs;
        if (declares(supports, needs)) describe(title, body);
        else if (!options.omitInapplicable) describe.skip(`${title} (skipped: ${skipReason(needs)})`, body);
      },
      testIf(capability) {
        if (declares(supports, capability)) return test;
        if (options.omitInapplicable) return () => undefined;
        return (testName, body) => test.skip(`${testName} (skipped: ${skipReason(capability)})`, body);
      },
    };

    beforeEach(async () => {
      subject = await factory();
      await subject.store.open();
    });

    afterEach(async () => {
      for (const s of opened.splice(0)) await s.close();
      if (subject) {
        await subject.store.close();
        await subject.cleanup();
      }
      subject = undefined;
    });

    describeLifecycle(ctx, factory);
    describeValidation(ctx);
    describeCapabilities(ctx);
    describeJournal(ctx);
    describeConversations(ctx);
    describeConversationActivity(ctx);
    describeDurability(ctx);
    describeReservation(ctx);
    describeRecordBound(ctx);
    describeClaims(ctx);
    describeUnreadCounts(ctx);
    describeReadPositions(ctx);
    describeContentReplacement(ctx);
  });
}

function describeLifecycle(ctx: ContractContext, factory: ContractFactory): void {
  const { describe, test, expect } = ctx.runner;
  describe('lifecycle', () => {
    test('every method rejects with STORAGE_ERR_NOT_OPEN before open()', async () => {
      const fresh = await factory();
      try {
        expect(fresh.store.isOpen).toBe(false);
        await expectCode(fresh.store.ping(), 'STORAGE_ERR_NOT_OPEN');
        await expectCode(fresh.store.createConversation(meta('c1')), 'STORAGE_ERR_NOT_OPEN');
        await expectCode(fresh.store.appendMessages('c1', [msg('c1', 1)]), 'STORAGE_ERR_NOT_OPEN');
        await expectCode(fresh.store.readMessages('c1', 0, 10), 'STORAGE_ERR_NOT_OPEN');
        await fresh.store.open();
        expect(fresh.store.isOpen).toBe(true);
      } finally {
        await fresh.store.close();
        await fresh.cleanup();
      }
    });

    test('concurrent open() calls share one attempt; close() during open() wins', async () => {
      const fresh = await factory();
      try {
        await Promise.all([fresh.store.open(), fresh.store.open(), fresh.store.open()]);
        await fresh.store.createConversation(meta('c1'));
        expect(await fresh.store.getConversation('c1')).toEqual(meta('c1'));
      } finally {
        await fresh.store.close();
        await fresh.cleanup();
      }
      const racing = await factory();
      try {
        const opening = racing.store.open();
        await racing.store.close();
        await expectCode(opening, 'STORAGE_ERR_NOT_OPEN');
        expect(racing.store.isOpen).toBe(false);
        await expectCode(racing.store.ping(), 'STORAGE_ERR_NOT_OPEN');
      } finally {
        await racing.store.close();
        await racing.cleanup();
      }
    });

    test('open() twice is harmless, ping() answers, close() is idempotent and final', async () => {
      const { store } = ctx;
      await store.open();
      expect(await store.ping()).toBeUndefined();
      await store.createConversation(meta('c1'));
      await store.close();
      await store.close();
      expect(store.isOpen).toBe(false);
      await expectCode(store.open(), 'STORAGE_ERR_NOT_OPEN');
      const calls: Array<() => Promise<unknown>> = [
        () => store.ping(),
        () => store.getConversation('c1'),
        () => store.updateConversationStatus('c1', 'closed'),
        () => store.listConversationsForUser('alice'),
        () => store.listConversationsCreatedBefore(new Date().toISOString()),
        () => store.deleteConversation('c1'),
        () => store.getParticipants('c1'),
        () => store.putParticipant('c1', person('bob')),
        () => store.removeParticipant('c1', 'bob'),
        () => store.appendMessages('c1', [msg('c1', 1)]),
        () => store.readLatestMessages('c1', 5),
        () => store.lastSequenceId('c1'),
        () => store.findSequenceByMessageId('c1', 'alice', 'x'),
        () => store.getSequenceReservation('c1'),
        () => store.setSequenceReservation('c1', 100),
        () => store.redactMessages('c1', { senderId: 'alice' }),
        () => store.replaceMessageContent('c1', 1, { senderId: 'alice', content: 'x', metadata: {} }),
        () => store.getReadPositions('c1'),
        () => store.getReadPositionsOf('alice', ['c1']),
        () => store.saveReadPositions('c1', new Map([['alice', 1]])),
        () => store.countUnread('alice', [{ conversationId: 'c1', after: 0, upTo: 1 }]),
      ];
      for (const call of calls) await expectCode(call(), 'STORAGE_ERR_NOT_OPEN');
    });
  });
}

function describeValidation(ctx: ContractContext): void {
  const { describe, test, expect } = ctx.runner;
  describe('argument validation', () => {
    test('ids must be non-empty strings of at most 256 characters', async () => {
      const { store } = ctx;
      await expectCode(store.createConversation(meta('')), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.getConversation('x'.repeat(257)), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.lastSequenceId(undefined as unknown as string), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.listConversationsForUser(''), 'STORAGE_ERR_INVALID_ARGUMENT');
      await store.createConversation(meta('c1'));
      await expectCode(store.putParticipant('c1', person('')), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 1, { message_id: '' })]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 1, { sender_id: '' })]), 'STORAGE_ERR_INVALID_ARGUMENT');
      expect(await store.getParticipants('c1')).toEqual([]);
    });

    test('counts, sequence ids, targets and times are checked', async () => {
      const { store } = ctx;
      await store.createConversation(meta('c1'));
      await expectCode(store.readMessages('c1', -1, 10), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.readMessages('c1', 0, 0), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.readMessages('c1', 0, 1.5), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.readLatestMessages('c1', 0), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 0)]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 1.5)]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c2', 1)]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 1, { content: 5 as unknown as string })]), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.appendMessages('c1', [msg('c1', 1), msg('c1', 3)]), 'STORAGE_ERR_SEQUENCE_GAP');
      await expectCode(store.redactMessages('c1', {} as unknown as { senderId: string }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.redactMessages('c1', { messageIds: [1] as unknown as string[] }), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.redactMessages('c1', { senderId: 'bob' }, undefined, -1), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.redactMessages('c1', { senderId: 'bob' }, undefined, 1.5), 'STORAGE_ERR_INVALID_ARGUMENT');
      await expectCode(store.listConversationsCreatedBefore('not a time'), 'STORAGE_ERR_INVALID_ARGUMENT');
      const cyclic: Record<string, unknown> = {};
      cyclic.self = cyclic;
      await expectCode(store.appendMessages('c1', [msg('c1', 1, { metadata: cyclic })]), 'STORAGE_ERR_INVALID_ARGUMENT');
      expect(await store.lastSequenceId('c1')).toBe(0);
      await store.appendMessages('c1', msgs('c1', 1, 2));
      expect(await store.lastSequenceId('c1')).toBe(2);
    });
  });
}
