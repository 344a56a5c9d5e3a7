#!/usr/bin/env node
/**
 * nlweb-chat-replay: reads a conversation journal from a store, a JSONL export or a running server's
 * HTTP API (--server) and prints its
 * timeline, one participant's view, invariant violations (--check) or machine divergences (--rerun).
 * Exit codes: 0 ok, 1 usage/IO error, 2 invariant violation, 3 divergence (docs/replay.md).
 */
import { main } from './replay/cli-program';

// `replay ... | head` closes the pipe early: that is a normal end, not a crash.
process.stdout.on('error', (err: NodeJS.ErrnoException) => {
  if (err.code === 'EPIPE') process.exit(0);
  throw err;
});

main(process.argv, { stdout: process.stdout, stderr: process.stderr }).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.stderr.write(`replay: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  },
);
