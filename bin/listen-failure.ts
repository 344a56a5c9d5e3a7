import type { NlwebChatConfig } from '../config/config-types';

/** The config key (and its environment override, if any) that chose each port the binary listens on. */
interface PortSetting {
  readonly port: number;
  readonly key: string;
}

/**
 * What to print when the binary could not listen: the port, who chose it and how to choose another, instead of
 * node's bare `listen EADDRINUSE: address already in use 127.0.0.1:8000`. A newcomer whose port 8000 is taken (a
 * second `npm start`, another program) was told nothing of `PORT`. Undefined for any other error.
 */
export function listenFailureText(err: unknown, config: NlwebChatConfig): string | undefined {
  const e = err as NodeJS.ErrnoException & { address?: unknown; port?: unknown };
  if (e === null || typeof e !== 'object' || e.syscall !== 'listen') return undefined;
  if (e.code !== 'EADDRINUSE' && e.code !== 'EACCES') return undefined;
  const port = typeof e.port === 'number' ? e.port : undefined;
  const where = `${typeof e.address === 'string' ? e.address : config.server.host}:${port ?? '?'}`;
  // Port 0 never conflicts, so a port equal to a configured one is that listener's.
  const settings: PortSetting[] = [
    { port: config.server.port, key: 'server.port (env PORT; PORT=0 picks a free port)' },
    { port: config.observability.metrics.port, key: 'observability.metrics.port (0 serves metrics on the main server)' },
    { port: config.chat.nlweb.standin.port, key: 'chat.nlweb.standin.port (0 picks a free port)' },
  ];
  const setting = settings.find((s) => s.port !== 0 && s.port === port);
  const choose = setting ? `choose another port with ${setting.key}` : 'choose another port';
  if (e.code === 'EADDRINUSE') {
    return `EADDRINUSE: ${where} is already in use (another nlweb-chat still running, or another program): stop it, or ${choose}`;
  }
  return `EACCES: not allowed to listen on ${where} (ports below 1024 need privileges): ${choose}`;
}
