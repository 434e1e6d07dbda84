/**
 * Guarantee 8, against real sockets: every Secrets Manager call and every database call of a rotation
 * step ends by the Lambda's deadline. A Secrets Manager endpoint that accepts and never answers, one
 * that answers too late, one whose answer trickles and never ends, one that stalls a single call
 * mid-step; a database port that accepts TCP and never answers; a statement that never returns on
 * both real servers. Each time the step fails with a TimeoutError before the Lambda's timeout, with
 * ONE log line naming the call and the network path, and the abandoned socket is closed.
 *
 * The Lambda contexts here give 2.5 s, so 1 s of work after the Deadline's 1.5 s safety margin.
 */
import { DescribeSecretCommand, GetSecretValueCommand, RotateSecretCommand } from '@aws-sdk/client-secrets-manager';
import { createServer as createHttpServer, request as httpRequest, type IncomingMessage, type Server as HttpServer } from 'node:http';
import { createServer as createTcpServer, type Server as TcpServer, type Socket } from 'node:net';
import { createMysqlUser, createPostgresUser, fixtureUsername } from '../../local/fixtures';
import { mysqlEngine } from '../../shared/engines/mysql';
import { postgresEngine } from '../../shared/engines/postgres';
import { TimeoutError } from '../../shared/errors';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';
import type { DatabaseEngine } from '../../shared/rotation/database-engine';
import type { RotationInvocationContext } from '../../shared/rotation/event';
import type { StepLogLine } from '../../shared/rotation/logger';
import { captureLogger, createSecret, lambdaArn, startEndpoint, uniqueName, type Endpoint } from '../support/rotation-endpoint';
import { startTcpFaultProxy } from '../support/tcp-fault-proxy';

const LAMBDA_TIMEOUT_MS = 2_500;
const SECRETS_MANAGER_HINT = /VPC endpoint for secretsmanager or a NAT gateway, and security groups/;
const DATABASE_HINT = /security group must allow the function's.*or a lock the statement waits on/;

/** A Lambda context counting down from `ms` at the moment it is made. */
function lambdaContext(ms = LAMBDA_TIMEOUT_MS): RotationInvocationContext {
  const started = Date.now();
  return { getRemainingTimeInMillis: () => ms - (Date.now() - started) };
}

/** A rotation event for a secret the endpoint may not even know. */
function event(step: string, secretId = 'arn:aws:secretsmanager:us-east-1:000000000000:secret:tb-AbCdEf') {
  return { SecretId: secretId, ClientRequestToken: '11111111-2222-3333-4444-555555555555', Step: step };
}

interface Listening<S> {
  readonly server: S;
  readonly url: string;
  readonly port: number;
  /** Sockets the server accepted that are still open. */
  openSockets(): number;
  close(): Promise<void>;
}

async function listen<S extends TcpServer | HttpServer>(server: S): Promise<Listening<S>> {
  const sockets = new Set<Socket>();
  server.on('connection', (socket: Socket) => {
    sockets.add(socket);
    socket.on('error', () => undefined);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.address() as { port: number }).port;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    openSockets: () => sockets.size,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/** Polls `probe` until it holds or `ms` pass. */
async function eventually(probe: () => boolean, ms = 1_000): Promise<boolean> {
  const until = Date.now() + ms;
  while (!probe()) {
    if (Date.now() > until) return false;
    await new Promise((r) => setTimeout(r, 20));
  }
  return true;
}

/** Runs one invocation; returns what it threw, how long it took, and its log lines. */
async function invoke(
  handler: ReturnType<typeof createRotationHandler>,
  logs: { lines: StepLogLine[] },
  rotationEvent: ReturnType<typeof event>,
): Promise<{ error: unknown; elapsedMs: number; lines: StepLogLine[] }> {
  const started = Date.now();
  const error = await handler(rotationEvent, lambdaContext()).then(
    () => undefined,
    (err: unknown) => err,
  );
  return { error, elapsedMs: Date.now() - started, lines: [...logs.lines] };
}

function expectTimedOutInTime(outcome: { error: unknown; elapsedMs: number; lines: StepLogLine[] }, call: RegExp, hint: RegExp): void {
  expect(outcome.error).toBeInstanceOf(TimeoutError);
  expect(outcome.elapsedMs).toBeLessThan(LAMBDA_TIMEOUT_MS - 500);
  expect(outcome.lines).toHaveLength(1);
  const [line] = outcome.lines;
  expect(line).toMatchObject({ level: 'error', outcome: 'failure', errorCode: 'TIMEOUT' });
  expect(line!.message).toMatch(call);
  expect(line!.message).toMatch(hint);
}

describe('a Secrets Manager endpoint that does not answer in time', () => {
  const servers: Array<{ close(): Promise<void> }> = [];
  beforeAll(async () => {
    // Load the SDK's lazily required modules first: on a busy machine that alone can outlast the
    // 1 s of work, and a request aborted before it is written leaves nothing in flight to observe.
    const refusing = await listen(createHttpServer((_req, res) => res.writeHead(400).end('{}')));
    servers.push(refusing);
    await runAgainst(refusing.url);
  });
  afterAll(async () => {
    for (const s of servers) await s.close();
  });

  async function runAgainst(url: string): Promise<{ error: unknown; elapsedMs: number; lines: StepLogLine[] }> {
    const logs = captureLogger();
    const handler = createRotationHandler({
      engine: postgresEngine,
      env: { SECRETS_MANAGER_ENDPOINT: url, AWS_REGION: 'us-east-1' },
      logger: logs,
    });
    return invoke(handler, logs, event('createSecret'));
  }

  it('accepts TCP and never answers: createSecret fails in time, logs once, and drops the socket', async () => {
    const silent = await listen(createTcpServer());
    servers.push(silent);
    let received = 0;
    silent.server.on('connection', (socket: Socket) => socket.on('data', (chunk: Buffer) => (received += chunk.length)));
    const outcome = await runAgainst(silent.url);
    expect(received).toBeGreaterThan(0);
    expectTimedOutInTime(outcome, /^DescribeSecret: no answer from Secrets Manager within the Lambda time left/, SECRETS_MANAGER_HINT);
    expect(outcome.lines[0]!.cause).toEqual({ name: 'AbortError', code: 'LAMBDA_DEADLINE' });
    expect(await eventually(() => silent.openSockets() === 0)).toBe(true);
  });

  it('answers, but only after the deadline', async () => {
    const late = await listen(
      createHttpServer((_req, res) => {
        const timer = setTimeout(() => res.end('{}'), 10_000);
        res.on('close', () => clearTimeout(timer));
      }),
    );
    servers.push(late);
    const outcome = await runAgainst(late.url);
    expectTimedOutInTime(outcome, /^DescribeSecret: no answer/, SECRETS_MANAGER_HINT);
    expect(await eventually(() => late.openSockets() === 0)).toBe(true);
  });

  it('sends its headers, then a body that trickles and never ends', async () => {
    const trickle = await listen(
      createHttpServer((_req, res) => {
        res.writeHead(200, { 'content-type': 'application/x-amz-json-1.1' });
        res.write('{"ARN":');
        const timer = setInterval(() => res.write(' '), 100);
        res.on('close', () => clearInterval(timer));
      }),
    );
    servers.push(trickle);
    const outcome = await runAgainst(trickle.url);
    expectTimedOutInTime(outcome, /^DescribeSecret: no answer/, SECRETS_MANAGER_HINT);
  });
});

/**
 * An HTTP proxy in front of the embedded endpoint that holds, unanswered, every request for one
 * operation while `stalling` is on: a path that fails for one call in the middle of a step.
 */
async function stallingProxy(target: string, operation: string): Promise<Listening<HttpServer> & { release(): void }> {
  const state = { stalling: true };
  const upstream = new URL(target);
  const server = createHttpServer((req: IncomingMessage, res) => {
    if (state.stalling && req.headers['x-amz-target'] === `secretsmanager.${operation}`) return;
    const forward = httpRequest(
      { host: upstream.hostname, port: upstream.port, path: req.url, method: req.method, headers: req.headers },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    forward.on('error', () => res.destroy());
    req.pipe(forward);
  });
  const listening = await listen(server);
  return { ...listening, release: () => (state.stalling = false) };
}

describe('one Secrets Manager call stalls in the middle of a step', () => {
  let endpoint: Endpoint;
  beforeAll(async () => {
    endpoint = await startEndpoint();
  });
  afterAll(() => endpoint.close());

  it('PutSecretValue never answers: createSecret fails in time naming it, stores nothing, and a retry completes', async () => {
    const proxy = await stallingProxy(endpoint.local.endpoint, 'PutSecretValue');
    try {
      const logs = captureLogger();
      const handler = createRotationHandler({
        engine: postgresEngine,
        env: { SECRETS_MANAGER_ENDPOINT: proxy.url, AWS_REGION: 'us-east-1' },
        logger: logs,
      });
      const functionArn = lambdaArn(uniqueName('tb-put'));
      const outcomes: Array<{ error: unknown; elapsedMs: number }> = [];
      // Only createSecret runs: the rotation stops at its failure.
      endpoint.local.registerRotationFunction(functionArn, async (rotationEvent) => {
        const started = Date.now();
        try {
          await handler(rotationEvent, lambdaContext());
        } catch (err) {
          outcomes.push({ error: err, elapsedMs: Date.now() - started });
          throw err;
        }
      });
      const secretId = await createSecret(endpoint.client, uniqueName('tb-put'), {
        engine: 'postgres',
        host: '127.0.0.1',
        port: 1,
        username: 'infra_tb_user',
        password: 'not-a-real-password-0',
        dbname: 'postgres',
      });
      await expect(
        endpoint.client.send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn, RotateImmediately: true })),
      ).rejects.toBeDefined();

      expect(outcomes).toHaveLength(1);
      expect(outcomes[0]!.error).toBeInstanceOf(TimeoutError);
      expect(outcomes[0]!.elapsedMs).toBeLessThan(LAMBDA_TIMEOUT_MS - 500);
      expect(logs.lines).toHaveLength(1);
      expect(logs.lines[0]).toMatchObject({ step: 'createSecret', errorCode: 'TIMEOUT' });
      expect(logs.lines[0]!.message).toMatch(/^PutSecretValue\(AWSPENDING\): no answer from Secrets Manager within the Lambda time left/);

      const stages = (await endpoint.client.send(new DescribeSecretCommand({ SecretId: secretId }))).VersionIdsToStages ?? {};
      const token = Object.keys(stages).find((id) => stages[id]?.includes('AWSPENDING'));
      expect(token).toBeDefined();
      await expect(
        endpoint.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPENDING' })),
      ).rejects.toMatchObject({ name: 'ResourceNotFoundException' });

      proxy.release();
      await handler({ SecretId: secretId, ClientRequestToken: token!, Step: 'createSecret' }, lambdaContext(10_000));
      const pending = await endpoint.client.send(new GetSecretValueCommand({ SecretId: secretId, VersionStage: 'AWSPENDING' }));
      expect(pending.VersionId).toBe(token);
      expect(logs.lines.at(-1)).toMatchObject({ step: 'createSecret', outcome: 'success' });
    } finally {
      await proxy.close();
    }
  });
});

const ENGINES: ReadonlyArray<{ name: string; databaseEngine: DatabaseEngine; engine: string; sleep: string }> = [
  { name: 'postgres', databaseEngine: postgresEngine, engine: 'postgres', sleep: 'SELECT pg_sleep(6)' },
  { name: 'mysql', databaseEngine: mysqlEngine, engine: 'mariadb', sleep: 'SELECT SLEEP(6)' },
];

describe.each(ENGINES)('the database does not answer in time: $name', ({ name, databaseEngine, engine, sleep }) => {
  let endpoint: Endpoint;
  beforeAll(async () => {
    endpoint = await startEndpoint();
  });
  afterAll(() => endpoint.close());

  /** Registers a function whose invocations get `LAMBDA_TIMEOUT_MS` for `tightStep`, plenty otherwise. */
  function register(handler: ReturnType<typeof createRotationHandler>, tightStep: string): string {
    const functionArn = lambdaArn(uniqueName(`tb-${name}`));
    endpoint.local.registerRotationFunction(functionArn, (rotationEvent) =>
      handler(rotationEvent, lambdaContext(rotationEvent.Step === tightStep ? LAMBDA_TIMEOUT_MS : 30_000)),
    );
    return functionArn;
  }

  async function rotate(secretId: string, functionArn: string): Promise<number> {
    const started = Date.now();
    await endpoint.client
      .send(new RotateSecretCommand({ SecretId: secretId, RotationLambdaARN: functionArn, RotateImmediately: true }))
      .catch(() => undefined);
    return Date.now() - started;
  }

  it('accepts TCP and never answers: setSecret fails in time naming the login and the network path', async () => {
    const proxy = await startTcpFaultProxy(1);
    try {
      await proxy.setMode('stall');
      const logs = captureLogger();
      // A connect timeout longer than the Lambda's time: the deadline, not the setting, must end the login.
      const handler = createRotationHandler({
        engine: databaseEngine,
        secretsClient: endpoint.client,
        env: { DB_CONNECT_TIMEOUT_MS: '20000' },
        logger: logs,
      });
      const secretId = await createSecret(endpoint.client, uniqueName(`tb-stall-${name}`), {
        engine,
        host: '127.0.0.1',
        port: proxy.port,
        username: fixtureUsername('infra'),
        password: 'never-sent-anywhere-0',
        ssl: false,
      });
      await rotate(secretId, register(handler, 'setSecret'));
      const failures = logs.lines.filter((l) => l.outcome === 'failure');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ step: 'setSecret', errorCode: 'TIMEOUT' });
      expect(failures[0]!.message).toMatch(new RegExp(`^Logging in as the current user to 127\\.0\\.0\\.1:${proxy.port}`));
      expect(failures[0]!.message).toMatch(DATABASE_HINT);
      expect(failures[0]!.durationMs).toBeLessThan(LAMBDA_TIMEOUT_MS - 500);
      // At once, not when the driver's own backstop timer fires a second later.
      expect(await eventually(() => proxy.openClientConnections === 0, 400)).toBe(true);
    } finally {
      await proxy.close();
    }
  });

  it('a statement never returns: testSecret fails in time naming it, and the session is dropped', async () => {
    const user =
      name === 'postgres'
        ? await createPostgresUser({ username: fixtureUsername('infra') })
        : await createMysqlUser({ username: fixtureUsername('infra') });
    const proxy = await startTcpFaultProxy(user.port);
    try {
      const logs = captureLogger();
      const handler = createRotationHandler({
        engine: databaseEngine,
        secretsClient: endpoint.client,
        env: {},
        testQuery: sleep,
        logger: logs,
      });
      const secretId = await createSecret(endpoint.client, uniqueName(`tb-sleep-${name}`), {
        engine,
        host: '127.0.0.1',
        port: proxy.port,
        username: user.username,
        password: user.password,
        dbname: user.database,
        ssl: false,
      });
      await rotate(secretId, register(handler, 'testSecret'));
      const failures = logs.lines.filter((l) => l.outcome === 'failure');
      expect(failures).toHaveLength(1);
      expect(failures[0]).toMatchObject({ step: 'testSecret', errorCode: 'TIMEOUT' });
      expect(failures[0]!.message).toMatch(
        new RegExp(`^A SELECT statement as the pending user on 127\\.0\\.0\\.1:${proxy.port}: no answer within the Lambda time left`),
      );
      expect(failures[0]!.message).toMatch(DATABASE_HINT);
      expect(failures[0]!.durationMs).toBeLessThan(LAMBDA_TIMEOUT_MS - 500);
      // The sleeping statement's connection is closed by the client, long before the sleep ends.
      expect(await eventually(() => proxy.openClientConnections === 0)).toBe(true);
    } finally {
      await proxy.close();
      await user.drop();
    }
  });
});
