import net from 'node:net';

/** Resolves with how long a TCP connection that sends nothing stays open (rejects after `guardMs`: never closed). */
export function idleLifetime(url: string, guardMs: number): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const started = Date.now();
    const socket = net.connect(Number(port), hostname);
    const guard = setTimeout(() => {
      socket.destroy();
      reject(new Error(`an idle connection was still open after ${guardMs} ms`));
    }, guardMs);
    socket.on('error', () => undefined);
    socket.on('close', () => {
      clearTimeout(guard);
      resolve(Date.now() - started);
    });
  });
}
