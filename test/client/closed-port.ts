/** A server address nothing listens on, for a client whose server is down: its connections are refused. */
import net from 'node:net';

/** ws://127.0.0.1:<a port just given back by the system>. */
export async function closedPortUrl(): Promise<string> {
  const probe = net.createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', () => resolve()));
  const { port } = probe.address() as net.AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return `ws://127.0.0.1:${port}`;
}
