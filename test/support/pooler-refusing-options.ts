/**
 * A loopback stand-in for a connection pooler that refuses startup parameters it does not pass on, as
 * PgBouncer does with `options` unless `ignore_startup_parameters` names it: a login whose startup
 * packet carries `options` gets FATAL 08P01 "unsupported startup parameter: options"; any other login
 * is forwarded to the real server. Plaintext only (no SSLRequest handling): for DB_TLS_MODE disable.
 */
import { Socket, createServer, type Server } from 'node:net';

export interface OptionsRefusingPooler {
  readonly port: number;
  /** Logins refused for their `options`, and logins forwarded. */
  readonly counts: { refused: number; forwarded: number };
  close(): Promise<void>;
}

/** The parameter names of a startup packet (length, protocol version, then name/value pairs). */
function startupParameterNames(packet: Buffer): string[] {
  const fields = packet.subarray(8).toString('utf8').split('\0');
  const names: string[] = [];
  for (let i = 0; i + 1 < fields.length && fields[i] !== ''; i += 2) names.push(fields[i]!);
  return names;
}

function fatal(code: string, message: string): Buffer {
  const body = Buffer.concat([Buffer.from(`SFATAL\0VFATAL\0C${code}\0M${message}\0\0`, 'utf8')]);
  const header = Buffer.alloc(5);
  header.write('E', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
}

export async function startOptionsRefusingPooler(targetPort: number, targetHost = '127.0.0.1'): Promise<OptionsRefusingPooler> {
  const sockets = new Set<Socket>();
  const counts = { refused: 0, forwarded: 0 };
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => undefined);
    let buffered = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      buffered = Buffer.concat([buffered, chunk]);
      if (buffered.length < 4 || buffered.length < buffered.readInt32BE(0)) return;
      client.off('data', onData);
      if (startupParameterNames(buffered.subarray(0, buffered.readInt32BE(0))).includes('options')) {
        counts.refused += 1;
        client.end(fatal('08P01', 'unsupported startup parameter: options'));
        return;
      }
      counts.forwarded += 1;
      const upstream = new Socket();
      sockets.add(upstream);
      upstream.on('close', () => sockets.delete(upstream));
      upstream.on('error', () => client.destroy());
      client.on('close', () => upstream.destroy());
      upstream.connect(targetPort, targetHost, () => {
        upstream.write(buffered);
        client.pipe(upstream);
        upstream.pipe(client);
      });
    };
    client.on('data', onData);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the stand-in pooler has no TCP port');
  return {
    port: address.port,
    counts,
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
