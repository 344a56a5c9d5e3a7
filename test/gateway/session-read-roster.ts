import type { ServerFrame } from '../../gateway/protocol/server-frames';

/**
 * The read positions one socket's client knows (docs/protocol.md, Read positions), kept as frames arrive:
 * `participant_list.read_positions` sets them, a live join sets the joiner's to its join record (no `read` frame says
 * it), a leave forgets the leaver, and `read` / `read_batch` frames raise them. A position never goes down on a
 * subscription: a frame naming a lower one than the client holds is a violation. While a `sync` waits for its
 * `participant_list`, the old subscription's frames may still arrive and are not judged (the list replaces them).
 */
export class ReadRoster {
  readonly positions = new Map<string, number>();
  /** Set once a `read_batch` came: from then on no `read` frame may come (the socket asked for batches). */
  private batched = false;
  private listsOwed = 0;

  constructor(
    private readonly label: string,
    private readonly problem: (why: string) => void,
  ) {}

  /** A `sync` frame went out: its `participant_list` will replace the positions. */
  syncSent(): void {
    this.listsOwed++;
  }

  /** A sync ended without its list (superseded, refused, or the socket closed). */
  syncsDone(): void {
    this.listsOwed = 0;
  }

  onFrame(frame: ServerFrame): void {
    switch (frame.type) {
      case 'participant_list':
        this.listsOwed = Math.max(0, this.listsOwed - 1);
        this.positions.clear();
        for (const p of frame.participants) {
          const at = frame.read_positions[p.participant_id];
          if (at === undefined) this.problem(`${this.label}: participant_list has no read position for ${p.participant_id}`);
          else if (at < p.joined_at_sequence)
            this.problem(`${this.label}: ${p.participant_id} read up to ${at}, before its join record ${p.joined_at_sequence}`);
          this.positions.set(p.participant_id, at ?? p.joined_at_sequence);
        }
        return;
      case 'participant_update':
        if (frame.action === 'join') this.positions.set(frame.participant.participant_id, frame.participant.joined_at_sequence);
        else this.positions.delete(frame.participant.participant_id);
        return;
      case 'read':
        if (this.batched) this.problem(`${this.label}: a read frame after a read_batch (${JSON.stringify(frame)})`);
        this.raise(frame.participant_id, frame.sequence_id);
        return;
      case 'read_batch':
        this.batched = true;
        for (const [id, at] of Object.entries(frame.positions)) this.raise(id, at);
        return;
      default:
        return;
    }
  }

  private raise(id: string, at: number): void {
    const held = this.positions.get(id);
    if (this.listsOwed === 0 && held !== undefined && at < held)
      this.problem(`${this.label}: ${id}'s read position went down from ${held} to ${at}`);
    // A position of someone the client does not list (it left meanwhile): kept, as a client keeping "seen by" would.
    this.positions.set(id, Math.max(at, held ?? 0));
  }
}
