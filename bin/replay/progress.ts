/** Where progress goes: stderr, shown only when it is a terminal. */
export interface ProgressSink {
  readonly isTTY?: boolean;
  write(chunk: string): boolean;
}

export interface Progress {
  /** Counts one record; redraws the line every `every` records. */
  tick(): void;
  /** Clears the progress line (nothing is left behind on the terminal). */
  done(): void;
}

/**
 * A single `\r`-redrawn line on stderr ("replay: 120000 records") every `every` records, so a
 * long journal shows it is moving. Silent when stderr is not a TTY (pipes, CI logs, tests).
 */
export function createProgress(sink: ProgressSink, label: string, every = 5000): Progress {
  if (!sink.isTTY) return { tick: () => undefined, done: () => undefined };
  let count = 0;
  let shown = false;
  return {
    tick() {
      count += 1;
      if (count % every !== 0) return;
      sink.write(`\r${label}: ${count} records`);
      shown = true;
    },
    done() {
      if (shown) sink.write('\r\x1b[K');
      shown = false;
    },
  };
}
