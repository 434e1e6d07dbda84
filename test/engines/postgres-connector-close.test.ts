/**
 * The pg connector's close() does not wait for the server's socket close, and still leaks nothing:
 * the backend goes away, the socket is released, a server that never closes its side has the socket
 * destroyed after the backstop, and a server killing the session during the close crashes nothing.
 */
import { createServer, Socket, type Server } from 'node:net';
import { connectPostgresAdmin } from '../../local/admin-connections';
import { postgresAdminSettings } from '../../local/db-settings';
import { parseDatabaseSecret } from '../../shared/database-secret';
import { connectPostgres, postgresConnector } from '../../shared/engines/postgres-connector';
import type { ConnectRequest } from '../../shared/rotation/database-engine';

const admin = postgresAdminSettings();

function request(port = admin.port): ConnectRequest {
  return {
    family: 'postgres',
    role: 'current',
    // The local superuser is trusted: no password exchange is involved.
    secret: parseDatabaseSecret({ engine: 'postgres', host: admin.host, port, username: 'postgres', password: 'x-unused-x' }),
    tlsMode: 'disable',
    connectTimeoutMs: 5_000,
  };
}

function tcpSockets(): number {
  return process.getActiveResourcesInfo().filter((r) => r === 'TCPSocketWrap').length;
}

async function eventually(check: () => Promise<boolean> | boolean, what: string, ms = 5_000): Promise<void> {
  const until = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > until) throw new Error(`not within ${ms} ms: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

async function backendAlive(pid: number): Promise<boolean> {
  const client = await connectPostgresAdmin();
  try {
    return (await client.query('SELECT 1 FROM pg_stat_activity WHERE pid = $1', [pid])).rows.length > 0;
  } finally {
    await client.end();
  }
}

it('close() returns without the server round trip; the backend ends and the socket is released', async () => {
  const before = tcpSockets();
  const session = await connectPostgres(request());
  const pid = Number((await session.query('SELECT pg_backend_pid() AS pid'))[0]!.pid);
  await session.close();
  await session.close();
  await eventually(async () => !(await backendAlive(pid)), 'the backend ends');
  await eventually(() => tcpSockets() <= before, 'the socket is released');
});

it('survives the server killing the session while it closes', async () => {
  const session = await connectPostgres(request());
  const pid = Number((await session.query('SELECT pg_backend_pid() AS pid'))[0]!.pid);
  const killer = await connectPostgresAdmin();
  try {
    await Promise.all([session.close(), killer.query('SELECT pg_terminate_backend($1)', [pid])]);
  } finally {
    await killer.end();
  }
  await eventually(async () => !(await backendAlive(pid)), 'the backend ends');
  // An unhandled 'error' would have failed the test by now; give late events a turn.
  await new Promise((resolve) => setTimeout(resolve, 100));
});

describe('a server that never closes its side', () => {
  let proxy: Server;
  let proxyPort: number;
  const clientSides = new Set<Socket>();

  // Forwards a login, then swallows the client's goodbye: its Terminate is dropped and its side stays open.
  beforeAll(async () => {
    proxy = createServer({ allowHalfOpen: true }, (client) => {
      clientSides.add(client);
      client.on('close', () => clientSides.delete(client));
      client.on('error', () => undefined);
      const upstream = new Socket({ allowHalfOpen: true });
      upstream.on('error', () => undefined);
      upstream.connect(admin.port, admin.host);
      client.on('data', (chunk) => {
        // 'X' is the Terminate message: dropped, so the server keeps the session too.
        if (chunk[0] !== 0x58) upstream.write(chunk);
      });
      upstream.on('data', (chunk) => client.write(chunk));
      client.on('close', () => upstream.destroy());
    });
    await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
    proxyPort = (proxy.address() as { port: number }).port;
  });

  afterAll(async () => {
    for (const s of clientSides) s.destroy();
    await new Promise((resolve) => proxy.close(resolve));
  });

  it('close() still returns, and the backstop destroys the socket', async () => {
    const session = await postgresConnector({ closeBackstopMs: 200 })(request(proxyPort));
    await session.query('SELECT 1');
    expect(clientSides.size).toBe(1);
    const open = tcpSockets();
    await session.close();
    // The connector's socket (one of this process's TCP handles, beside the proxy's two) goes away.
    await eventually(() => tcpSockets() === open - 1, 'the half-open socket is destroyed', 3_000);
  });
});
