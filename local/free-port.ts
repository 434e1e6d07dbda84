/** A free TCP port on loopback, for the private servers the tests and benchmarks start. */
import { createServer } from 'node:net';

/**
 * Asks the kernel for a free port on 127.0.0.1 and releases it at once. Another process may take it
 * before the caller binds it; callers that start a server retry on a port clash.
 * @returns the port number (1024–65535)
 * @throws the listen error when no port can be had
 */
export async function freeLoopbackPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}
