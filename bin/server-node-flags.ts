/**
 * Node flags the server process runs with: `npm start` passes them (package.json, checked by
 * test/bin/server-node-flags.test.ts), and the gateway benchmarks' server children get them too, so they measure
 * the process as deployed. Command-line flags, not v8.setFlagsFromString at start: Node documents changing V8 flags
 * after the VM started as unpredictable.
 *
 * `--no-allocation-site-pretenuring`: early in a run V8's allocation-site pretenuring marks the sites of a post's
 * short-lived objects (the POSTS event and its fields, the reducer's arrays, xstate's action arguments and step
 * arrays) as long-lived, and allocates them in old space from then on. The trigger is xstate's microstep, which stores
 * a closure over the step's actions in the actor's long-lived scope for the step (a dependency: not ours to change). They die there at once, yet until the next
 * full collection every young object they point to (contexts, snapshots, outcomes) survives each scavenge and is
 * promoted: measured 2026-12-08 on the latency workload, ~1.0 KB promoted per message with it, ~0.24 KB without
 * (what the journal keeps), and scavenges half as long (docs/benchmarks.md, "Gateway allocation per message").
 */
export const SERVER_NODE_FLAGS: readonly string[] = ['--no-allocation-site-pretenuring'];
