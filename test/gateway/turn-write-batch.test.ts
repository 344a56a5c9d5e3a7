import { Writable } from 'node:stream';
import { TurnWriteBatch, TurnWriteFlusher } from '../../gateway/turn-write-batch';

/** A real Node writable that records how writes reach it: one entry per underlying write call (writev: its chunks). */
function recordingStream(): { stream: Writable; calls: string[][] } {
  const calls: string[][] = [];
  const stream = new Writable({
    write(chunk: Buffer, _enc, cb) {
      calls.push([chunk.toString()]);
      cb();
    },
    writev(chunks, cb) {
      calls.push(chunks.map((c) => (c.chunk as Buffer).toString()));
      cb();
    },
  });
  return { stream, calls };
}

function write(batch: TurnWriteBatch, data: string, soon = false): void {
  batch.write(Buffer.from(data), soon);
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnWriteBatch', () => {
  it('writes everything of one turn, promise callbacks included, in one call once the microtasks ran', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    write(batch, 'a');
    void Promise.resolve()
      .then(() => write(batch, 'b'))
      .then(() => write(batch, 'c'));
    expect(calls).toEqual([]);
    await nextMacrotask();
    expect(calls).toEqual([['abc']]);
    // The next turn starts a new batch.
    write(batch, 'd');
    await nextMacrotask();
    expect(calls).toEqual([['abc'], ['d']]);
  });

  it('lets ticks queued later in the same turn run before the flush (an HTTP request gets its socket first)', async () => {
    const { stream, calls } = recordingStream();
    const order: string[] = [];
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    write(batch, 'frame');
    process.nextTick(() => order.push(`tick saw ${calls.length} writes`));
    await nextMacrotask();
    expect(order).toEqual(['tick saw 0 writes']);
    expect(calls).toEqual([['frame']]);
  });

  it('flushes at once when a turn has held flushAtBytes', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 4, new TurnWriteFlusher());
    write(batch, 'xx');
    expect(calls).toEqual([]);
    write(batch, 'yy');
    expect(calls).toEqual([['xxyy']]);
    write(batch, 'z');
    await nextMacrotask();
    expect(calls).toEqual([['xxyy'], ['z']]);
  });

  it('flushes every socket of a turn from one tick, in the order they were first written', async () => {
    const flusher = new TurnWriteFlusher();
    const a = recordingStream();
    const b = recordingStream();
    const order: string[] = [];
    const batchA = new TurnWriteBatch(a.stream, 1 << 20, flusher);
    const batchB = new TurnWriteBatch(b.stream, 1 << 20, flusher);
    write(batchB, 'b1');
    write(batchA, 'a1');
    write(batchB, 'b2');
    process.nextTick(() => order.push(`tick saw ${a.calls.length + b.calls.length} writes`));
    await nextMacrotask();
    expect(order).toEqual(['tick saw 0 writes']);
    expect(b.calls).toEqual([['b1b2']]);
    expect(a.calls).toEqual([['a1']]);
  });

  it('a turn that writes to many sockets (a big room) flushes what it holds and writes through', async () => {
    const flusher = new TurnWriteFlusher(2);
    const streams = [recordingStream(), recordingStream(), recordingStream()];
    const batches = streams.map((r) => new TurnWriteBatch(r.stream, 1 << 20, flusher));
    write(batches[0]!, 'x0');
    write(batches[1]!, 'x1');
    expect(streams.map((r) => r.calls.length)).toEqual([0, 0, 0]);
    write(batches[2]!, 'x2');
    // The third socket of the turn: the two held ones are flushed now, the third is not held at all.
    expect(streams.map((r) => r.calls)).toEqual([[['x0']], [['x1']], [['x2']]]);
    write(batches[0]!, 'y0');
    expect(streams[0]!.calls).toEqual([['x0'], ['y0']]);
    await nextMacrotask();
    // The next turn holds again.
    write(batches[0]!, 'z0');
    expect(streams[0]!.calls).toHaveLength(2);
    await nextMacrotask();
    expect(streams[0]!.calls).toEqual([['x0'], ['y0'], ['z0']]);
  });

  it("flushes someone else's message right after the current step (a microtask), before the turn's ticks", async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    write(batch, 'm1', true);
    write(batch, 'm2', true);
    let seenByTick = -1;
    process.nextTick(() => (seenByTick = calls.length));
    await Promise.resolve();
    expect(calls).toEqual([['m1m2']]);
    // A later frame of the same turn (an ack) is held again and goes out at the end of the turn.
    write(batch, 'ack');
    expect(calls).toHaveLength(1);
    await nextMacrotask();
    expect(seenByTick).toBe(1);
    expect(calls).toEqual([['m1m2'], ['ack']]);
  });

  it('does nothing to a destroyed stream', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    stream.destroy();
    write(batch, 'lost');
    await nextMacrotask();
    expect(calls).toEqual([]);
  });

  it('drops what it held when the stream is destroyed before the flush', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    write(batch, 'held');
    stream.destroy();
    await nextMacrotask();
    expect(calls).toEqual([]);
    expect(stream.writableLength).toBe(0);
  });

  it('hands a large turn over as separate chunks in one corked write instead of copying it', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    const big = 'x'.repeat(10_000);
    write(batch, big);
    write(batch, big);
    write(batch, 'tail');
    await nextMacrotask();
    expect(calls).toEqual([[big, big, 'tail']]);
    expect(stream.writableCorked).toBe(0);
  });

  it('flush() writes what the turn holds at once, so a frame written behind it stays behind it', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20, new TurnWriteFlusher());
    write(batch, 'error-frame');
    batch.flush();
    stream.write('close-frame');
    await nextMacrotask();
    expect(calls).toEqual([['error-frame'], ['close-frame']]);
  });
});
