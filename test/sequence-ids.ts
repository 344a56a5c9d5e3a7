/** The whole numbers first..last in order (none when last < first): the sequence ids a test expects to see. */
export function range(first: number, last: number): number[] {
  return Array.from({ length: last - first + 1 }, (_, i) => first + i);
}
