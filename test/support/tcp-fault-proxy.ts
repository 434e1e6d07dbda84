/**
 * A loopback TCP proxy in front of a real database server whose behaviour a test switches: forward,
 * refuse (the port closed: ECONNREFUSED), or stall (connections accepted, nothing answered: a timeout).
 * The port stays the same across switches, so a secret naming it is valid before and after an outage.
 */
import { Socket, createServer, type Server } from 'node:net';

export type ProxyMode = 'forward' | 'refuse' | 'stall';

export interface TcpFaultProxy {
  readonly port: number;
  /** Client connections accepted and not yet closed: shows whether a caller dropped its socket. */
  readonly openClientConnections: number;
  setMode(mode: ProxyMode): Promise<void>;
  close(): Promise<void>;
}

export async function startTcpFaultProxy(targetPort: number, targetHost = '127.0.0.1'): Promise<TcpFaultProxy> {
  const sockets = new Set<Socket>();
  const clients = new Set<Socket>();
  let mode: ProxyMode = 'forward';
  let port = 0;
  let server: Server | undefined;

  const onConnection = (client: Socket): void => {
    sockets.add(client);
    clients.add(client);
    client.on('close', () => {
      sockets.delete(client);
      clients.delete(client);
    });
    client.on('error', () => undefined);
    if (mode === 'stall') {
      // Read and drop what the client sends: unread data would hold back the 'close' that shows the
      // client gave up (openClientConnections), while the client still gets no answer.
      client.resume();
      return;
    }
    const upstream = new Socket();
    sockets.add(upstream);
    upstream.on('close', () => {
      sockets.delete(upstream);
      client.destroy();
    });
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.connect(targetPort, targetHost, () => {
      client.pipe(upstream);
      upstream.pipe(client);
    });
  };

  const listen = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const s = createServer(onConnection);
      s.once('error', reject);
      s.listen(port, '127.0.0.1', () => {
        s.off('error', reject);
        port = (s.address() as { port: number }).port;
        server = s;
        resolve();
      });
    });

  const stop = (): Promise<void> =>
    new Promise((resolve) => {
      const s = server;
      server = undefined;
      for (const socket of sockets) socket.destroy();
      sockets.clear();
      if (s === undefined) return resolve();
      s.close(() => resolve());
    });

  await listen();
  return {
    get port() {
      return port;
    },
    get openClientConnections() {
      return clients.size;
    },
    async setMode(next) {
      // Each switch drops the connections of the mode before, as a real outage would.
      await stop();
      mode = next;
      if (next !== 'refuse') await listen();
    },
    close: stop,
  };
}
