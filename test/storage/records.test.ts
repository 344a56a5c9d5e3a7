import fc from 'fast-check';
import { copyJsonObject } from '../../storage-providers/records';
import { isDeepFrozen } from '../contract/fixtures';

describe('copyJsonObject', () => {
  test('has exactly JSON round-trip semantics and returns a deeply frozen plain copy', () => {
    const value = fc.anything({
      withDate: true,
      withMap: true,
      withSet: true,
      withBoxedValues: true,
      withNullPrototype: true,
      withSparseArray: true,
      withTypedArray: true,
      maxDepth: 4,
    });
    fc.assert(
      fc.property(fc.dictionary(fc.string(), value), (input) => {
        const copy = copyJsonObject(input, 'metadata');
        expect(copy).toStrictEqual(JSON.parse(JSON.stringify(input)));
        expect(isDeepFrozen(copy)).toBe(true);
        if (Object.keys(copy).length > 0) expect(copy).not.toBe(input);
      }),
      { numRuns: 300 },
    );
  });

  test('keeps a "__proto__" key as an own property and rejects what JSON cannot carry', () => {
    const input = JSON.parse('{"__proto__": {"polluted": true}, "a": 1}') as Record<string, unknown>;
    const copy = copyJsonObject(input, 'metadata');
    expect(Object.getPrototypeOf(copy)).toBe(Object.prototype);
    expect(Object.keys(copy)).toEqual(['__proto__', 'a']);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    expect(() => copyJsonObject({ n: BigInt(1) }, 'metadata')).toThrow(expect.objectContaining({ code: 'STORAGE_ERR_INVALID_ARGUMENT' }));
    const deep: Record<string, unknown> = {};
    let cursor = deep;
    for (let i = 0; i < 100; i++) cursor = (cursor.next = {}) as Record<string, unknown>;
    expect(copyJsonObject(deep, 'metadata')).toEqual(JSON.parse(JSON.stringify(deep)));
  });
});
