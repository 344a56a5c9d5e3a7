import { once } from 'node:events';

/** The part of a Writable the CLI writes to (process.stdout, a file stream, or a test double). */
export interface TextSink {
  write(chunk: string): boolean;
  once?(event: 'drain', listener: () => void): unknown;
}

/**
 * Buffers lines and writes them in ~64 KiB chunks, waiting for 'drain' when the sink is full,
 * so printing a million-record timeline neither floods memory nor makes a write per line.
 */
export class LineWriter {
  private buffer: string[] = [];
  private size = 0;

  constructor(
    private readonly sink: TextSink,
    private readonly chunkSize = 64 * 1024,
  ) {}

  async line(text: string): Promise<void> {
    this.buffer.push(text, '\n');
    this.size += text.length + 1;
    if (this.size >= this.chunkSize) await this.flush();
  }

  async flush(): Promise<void> {
    if (this.size === 0) return;
    const chunk = this.buffer.join('');
    this.buffer = [];
    this.size = 0;
    if (!this.sink.write(chunk) && this.sink.once) await once(this.sink as unknown as NodeJS.EventEmitter, 'drain');
  }
}
