import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { isChatError } from '../../actors/errors';
import { MemoryStore, type MemoryStoreOptions, type StoreCapabilities } from '../../storage-providers';
import { planChatStoreContract, runChatStoreContract, type ContractOptions, type ContractRunner } from '../../testing';
import { resolveRunner } from '../../testing/store-contract/contract-runner';

/** A test the recording runner collected: its describe path, its name, and whether it was registered as skipped. */
interface Collected {
  readonly path: readonly string[];
  readonly name: string;
  readonly skipped: boolean;
  readonly body: () => Promise<unknown>;
}

/**
 * A runner that records what the suite registers and runs it afterwards, hooks scoped to their describe
 * as in jest. Registering runs inside a jest test, where a stray jest global (describe, test, a hook) fails that test:
 * so it also shows the suite calls nothing but the runner it is given.
 */
function recordingRunner() {
  const tests: Collected[] = [];
  const hooks: Array<{ kind: 'before' | 'after'; path: readonly string[]; body: () => Promise<unknown> }> = [];
  const path: string[] = [];
  let skipping = 0;
  const suite = (skip: boolean) => (name: string, body: () => void) => {
    path.push(name);
    if (skip) skipping++;
    body();
    if (skip) skipping--;
    path.pop();
  };
  const test = (skip: boolean) => (name: string, body: () => Promise<unknown>) => {
    tests.push({ path: [...path], name, skipped: skip || skipping > 0, body });
  };
  const runner: ContractRunner = {
    describe: Object.assign(suite(false), { skip: suite(true) }),
    test: Object.assign(test(false), { skip: test(true) }),
    beforeEach: (body) => hooks.push({ kind: 'before', path: [...path], body }),
    afterEach: (body) => hooks.push({ kind: 'after', path: [...path], body }),
    expect,
  };
  const within = (t: Collected, p: readonly string[]) => p.every((name, i) => t.path[i] === name);
  /** Runs every test that was not skipped; returns the failures, named by their path below the contract's describe. */
  async function run(): Promise<Array<{ test: string; message: string }>> {
    const failures: Array<{ test: string; message: string }> = [];
    for (const t of tests.filter((x) => !x.skipped)) {
      const scoped = hooks.filter((h) => within(t, h.path));
      try {
        for (const h of scoped.filter((x) => x.kind === 'before')) await h.body();
        await t.body();
      } catch (err) {
        failures.push({ test: [...t.path.slice(1), t.name].join(' › '), message: (err as Error).message });
      } finally {
        for (const h of scoped.filter((x) => x.kind === 'after').reverse()) await h.body();
      }
    }
    return failures;
  }
  return { runner, tests, run };
}

const memory =
  (options: MemoryStoreOptions = {}) =>
  async () => ({ store: new MemoryStore(options), cleanup: async () => {} });

/** The describe titles directly under the contract's own, in order. */
const groupsOf = (tests: readonly Collected[]) => [...new Set(tests.map((t) => t.path[1]))];

describe('runChatStoreContract', () => {
  it('registers through the runner it is given; a store declaring what it supports passes, the groups it lacks are skipped with the reason', async () => {
    const recorded = recordingRunner();
    const supports = new MemoryStore().supports;
    runChatStoreContract('memory', memory(), { supports, runner: recorded.runner });
    expect(groupsOf(recorded.tests)).toEqual([
      'lifecycle',
      'argument validation',
      'capabilities',
      'journal',
      'conversations',
      'conversation activity',
      'durability (skipped: supports.durable is not true)',
      'sequence reservation',
      'record keeping',
      'record bound (skipped: supports.maxRecordsPerConversation is 0 or absent)',
      'total record bound (skipped: supports.maxRecordsTotal is 0 or absent)',
      'conversation claims, every store',
      'conversation claims (skipped: supports.claims is not true)',
      'unread counts',
      'read positions',
      'content replacement, every store',
      'content replacement',
    ]);
    const skippedGroups = groupsOf(recorded.tests.filter((t) => t.skipped));
    // Only their durable tests.
    expect(skippedGroups.filter((g) => !g.includes('(skipped: '))).toEqual([
      'sequence reservation',
      'read positions',
      'content replacement',
    ]);
    expect(await recorded.run()).toEqual([]);
  });

  it('a store that declares more than the suite was told fails the capabilities test, naming what differs', async () => {
    const recorded = recordingRunner();
    runChatStoreContract('memory with claims, undeclared', memory({ claims: true }), { runner: recorded.runner });
    // Told nothing, the suite assumed a minimal store: the reservation and claims groups were skipped.
    expect(groupsOf(recorded.tests)).toContain('conversation claims (skipped: supports.claims is not true)');
    const failures = await recorded.run();
    expect(failures.map((f) => f.test)).toEqual([
      'capabilities › the store declares the capabilities the suite was told',
      // The base-class claims it wrongly expected: a consequence of the wrong declaration.
      'conversation claims, every store › without the capability every claim succeeds with epoch 0 and nothing is fenced',
      // The same for read positions: the memory store keeps them.
      'unread counts › without the capability, saved read positions are dropped and none are read',
      // And for lowering read positions: the memory store lowers them.
      'unread counts › without the capability, lowerReadPositions changes nothing and answers 0',
      // And for content replacement: the memory store replaces.
      'content replacement, every store › without the capability replaceMessageContent is STORAGE_ERR_UNSUPPORTED and changes nothing',
    ]);
    expect(failures[0].message).toContain(
      '(differing: sequenceReservation, claims, readPositions, lowerReadPositions, replaceContent): pass { supports } equal to the store',
    );
  });

  it('a runner that lacks a function is STORAGE_ERR_INVALID_ARGUMENT naming it', () => {
    const { expect: _expect, ...partial } = recordingRunner().runner;
    const noSkip = { ...recordingRunner().runner, test: () => undefined } as unknown as ContractRunner;
    for (const [runner, named] of [
      [partial, /lacks expect:/],
      [noSkip, /lacks test\.skip:/],
    ] as const) {
      let error: unknown;
      try {
        runChatStoreContract('x', memory(), { runner } as ContractOptions);
      } catch (err) {
        error = err;
      }
      expect(isChatError(error, 'STORAGE_ERR_INVALID_ARGUMENT')).toBe(true);
      expect((error as Error).message).toMatch(named);
    }
  });

  it('outside a test runner (no globals, no runner given) it is STORAGE_ERR_INVALID_ARGUMENT telling what to pass', () => {
    // The built package, as a provider's project loads it, in a plain node process.
    const dist = join(__dirname, '../../dist/testing/index.js');
    expect(existsSync(dist)).toBe(true);
    const script =
      `const { runChatStoreContract } = require(${JSON.stringify(dist)});` +
      "try { runChatStoreContract('x', async () => ({})); } catch (err) { console.log(err.code + ' ' + err.message); }";
    const out = execFileSync(process.execPath, ['-e', script], { encoding: 'utf8' });
    expect(out).toMatch(
      /^STORAGE_ERR_INVALID_ARGUMENT runChatStoreContract found no test-runner global describe, test, beforeEach, afterEach, expect:/,
    );
    expect(out).toContain('pass { runner: { describe, test, beforeEach, afterEach, expect } }');
  });

  it("resolveRunner takes the globals when it is given nothing (jest); jest's own functions fit ContractRunner", () => {
    expect(resolveRunner(undefined).describe).toBe(describe);
    // A compile-time check as much as a run-time one: @types/jest's globals are assignable to the local declaration.
    const explicit: ContractRunner = { describe, test, beforeEach, afterEach, expect };
    expect(resolveRunner(explicit)).toBe(explicit);
  });
});

describe('planChatStoreContract', () => {
  const plan = (supports: StoreCapabilities) => planChatStoreContract(supports).map((g) => [g.title, g.skipReason ?? 'runs']);

  it('skips every optional group of a store with no optional capability, saying why', () => {
    expect(plan({ durable: false, sharedAcrossProcesses: false })).toEqual([
      ['durability', 'supports.durable is not true'],
      ['sequence reservation', 'supports.sequenceReservation is not true'],
      ['record bound', 'supports.maxRecordsPerConversation is 0 or absent'],
      ['total record bound', 'supports.maxRecordsTotal is 0 or absent'],
      ['conversation claims', 'supports.claims is not true'],
      ['read positions', 'supports.readPositions is not true'],
      ['content replacement', 'supports.replaceContent is not true'],
    ]);
  });

  it('runs the groups a store declares; a bound of 0 is no bound', () => {
    const all = { durable: true, sharedAcrossProcesses: true, sequenceReservation: true, claims: true };
    expect(plan({ ...all, maxRecordsPerConversation: 0, maxRecordsTotal: 5 })).toEqual([
      ['durability', 'runs'],
      ['sequence reservation', 'runs'],
      ['record bound', 'supports.maxRecordsPerConversation is 0 or absent'],
      ['total record bound', 'runs'],
      ['conversation claims', 'runs'],
      ['read positions', 'supports.readPositions is not true'],
      ['content replacement', 'supports.replaceContent is not true'],
    ]);
  });
});
