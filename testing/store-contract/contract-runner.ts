import { ChatError } from '../../actors/errors';

/**
 * The few test-runner functions the storage contract calls. They are declared here, not taken from
 * @types/jest, so the package builds (and a provider's project type-checks) without jest's types. Jest's
 * globals fit (test/testing/store-contract.test.ts checks it); vitest's exports have the same
 * shapes by its documentation, untested here.
 */
export interface ContractRunner {
  readonly describe: SuiteFn & { readonly skip: SuiteFn };
  readonly test: TestFn & { readonly skip: TestFn };
  readonly beforeEach: HookFn;
  readonly afterEach: HookFn;
  readonly expect: ContractExpect;
}

export type SuiteFn = (name: string, body: () => void) => void;
export type TestFn = (name: string, body: () => Promise<unknown>) => void;
export type HookFn = (body: () => Promise<unknown>) => void;

/** The matchers the suite uses (a subset jest and vitest share). */
export interface ContractMatchers {
  toBe(expected: unknown): void;
  toEqual(expected: unknown): void;
  toBeUndefined(): void;
  toContainEqual(expected: unknown): void;
  toBeGreaterThan(expected: number): void;
  toBeLessThan(expected: number): void;
  toBeLessThanOrEqual(expected: number): void;
  toThrow(): void;
}

export type ContractExpect = (actual: unknown) => ContractMatchers;

const RUNNER_KEYS = ['describe', 'test', 'beforeEach', 'afterEach', 'expect'] as const;

/**
 * The runner handed in, or else the runner's globals (jest; vitest with `globals: true`), read while the
 * runner collects the test file. Anything missing is STORAGE_ERR_INVALID_ARGUMENT naming it.
 */
export function resolveRunner(given: ContractRunner | undefined): ContractRunner {
  const source = (given ?? globalThis) as unknown as Record<string, { skip?: unknown } | undefined>;
  const missing: string[] = RUNNER_KEYS.filter((key) => typeof source[key] !== 'function');
  for (const key of ['describe', 'test'] as const) {
    if (!missing.includes(key) && typeof source[key]?.skip !== 'function') missing.push(`${key}.skip`);
  }
  if (missing.length === 0) return source as unknown as ContractRunner;
  const where = given ? "runChatStoreContract's runner lacks" : 'runChatStoreContract found no test-runner global';
  throw new ChatError(
    'STORAGE_ERR_INVALID_ARGUMENT',
    `${where} ${missing.join(', ')}: run it from a jest test file, or pass { runner: { describe, test, beforeEach, afterEach, expect } } ` +
      'from your runner (vitest: import them from "vitest")',
  );
}
