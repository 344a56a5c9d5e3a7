/** How many runs of ids the note names before it only counts the rest (as a redaction's note does). */
const NAMED_RUNS = 5;

/**
 * The timeline's note of what a record answers: "[re #211] ", "[re #210, #211] ", and a run of three or more
 * consecutive ids as one range ("[re #200..#211] "), since a multi-mode burst is mostly consecutive posts. A list
 * of many scattered ids (posts of a burst between other records) names its first runs and counts the ids left,
 * so the content still shows on the line. `ids` ascending, not empty.
 */
export function answeredNote(ids: readonly number[]): string {
  const runs = consecutiveRuns(ids);
  const named = runs.slice(0, NAMED_RUNS);
  const left = runs.slice(NAMED_RUNS).reduce((sum, run) => sum + run.to - run.from + 1, 0);
  const text = named.map(runText).join(', ');
  return `[re ${text}${left > 0 ? ` and ${left} more` : ''}] `;
}

interface Run {
  readonly from: number;
  readonly to: number;
}

function consecutiveRuns(ids: readonly number[]): Run[] {
  const runs: Run[] = [];
  for (const id of ids) {
    const last = runs[runs.length - 1];
    if (last !== undefined && id === last.to + 1) runs[runs.length - 1] = { from: last.from, to: id };
    else runs.push({ from: id, to: id });
  }
  return runs;
}

/** Two consecutive ids stay a list ("#210, #211"): a range is no shorter and reads less plainly. */
function runText(run: Run): string {
  if (run.from === run.to) return `#${run.from}`;
  if (run.to === run.from + 1) return `#${run.from}, #${run.to}`;
  return `#${run.from}..#${run.to}`;
}
