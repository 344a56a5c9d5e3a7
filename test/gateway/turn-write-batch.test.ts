import { Writable } from 'node:stream';
import { TurnWriteBatch } from '../../gateway/turn-write-batch';

/** A real Node writable that records how writes reach it: one entry per underlying write call. */
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

function write(batch: TurnWriteBatch, stream: Writable, data: string): void {
  batch.hold();
  stream.write(data);
  batch.wrote();
}

const nextMacrotask = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

describe('TurnWriteBatch', () => {
  it('writes everything of one turn, promise callbacks included, in one call once the microtasks ran', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20);
    write(batch, stream, 'a');
    void Promise.resolve()
      .then(() => write(batch, stream, 'b'))
      .then(() => write(batch, stream, 'c'));
    expect(calls).toEqual([]);
    await nextMacrotask();
    expect(calls).toEqual([['a', 'b', 'c']]);
    // The next turn starts a new batch.
    write(batch, stream, 'd');
    await nextMacrotask();
    expect(calls).toEqual([['a', 'b', 'c'], ['d']]);
  });

  it('lets ticks queued later in the same turn run before the flush (an HTTP request gets its socket first)', async () => {
    const { stream, calls } = recordingStream();
    const order: string[] = [];
    const batch = new TurnWriteBatch(stream, 1 << 20);
    write(batch, stream, 'frame');
    process.nextTick(() => order.push(`tick saw ${calls.length} writes`));
    await nextMacrotask();
    expect(order).toEqual(['tick saw 0 writes']);
    expect(calls).toEqual([['frame']]);
  });

  it('flushes at once when a turn has held flushAtBytes', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 4);
    write(batch, stream, 'xx');
    expect(calls).toEqual([]);
    write(batch, stream, 'yy');
    expect(calls).toEqual([['xx', 'yy']]);
    write(batch, stream, 'z');
    await nextMacrotask();
    expect(calls).toEqual([['xx', 'yy'], ['z']]);
  });

  it('does nothing to a destroyed stream', async () => {
    const { stream, calls } = recordingStream();
    const batch = new TurnWriteBatch(stream, 1 << 20);
    stream.destroy();
    batch.hold();
    expect(stream.writableCorked).toBe(0);
    await nextMacrotask();
    expect(calls).toEqual([]);
  });
});
