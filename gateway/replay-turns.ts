/** Bytes of paced deliveries written per event-loop turn, over every socket of a gateway (about 5 ms of work). */
const BYTES_PER_TURN = 256 * 1024;

/**
 * Shares the event loop between the paced deliveries (paced-outputs.ts) of every socket of one gateway. A step
 * writes one chunk of one socket's held outputs and returns the bytes it wrote; one turn (a setImmediate) runs the
 * ready steps in the order they became ready until `bytesPerTurn` is spent, and leaves the rest to the next turn,
 * after that turn's I/O. So however many sockets replay at once (a whole room reconnecting after a restart), the
 * loop is held for about one turn's bytes at a time, and live posts, acks and the other sockets' frames go in
 * between. A step that is ready again goes to the back: a lone replay runs several chunks a turn, many share it.
 */
export class ReplayTurns {
  private ready: Array<() => number> = [];
  private scheduled = false;

  constructor(private readonly bytesPerTurn = BYTES_PER_TURN) {}

  /** Runs `step` from the next run (a step scheduling one: later in the same run, while bytes are left). Must not throw. */
  schedule(step: () => number): void {
    this.ready.push(step);
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(this.run);
  }

  private readonly run = (): void => {
    let spent = 0;
    while (this.ready.length > 0 && spent < this.bytesPerTurn) spent += this.ready.shift()!();
    // Steps scheduled meanwhile, or left over, run after this turn's I/O; `scheduled` stayed true so none queued a run.
    if (this.ready.length > 0) setImmediate(this.run);
    else this.scheduled = false;
  };
}
