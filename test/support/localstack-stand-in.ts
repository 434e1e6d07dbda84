/**
 * A loopback HTTP server standing in for LocalStack, for the tests of `localstack:deploy` and
 * `rotate:local`: it answers `/_localstack/health` and records every other request (service from the
 * SigV4 credential scope, action, access key, host). It answers just enough, in each service's own
 * protocol, for `cdklocal bootstrap` and `cdklocal deploy` to run to the end: STS (query/XML),
 * CloudFormation's change-set lifecycle (query/XML), SSM's bootstrap-version parameter (JSON), S3 by
 * path (REST/XML). Lambda GetFunction answers for the functions it is told exist; Secrets Manager calls
 * are forwarded to a real endpoint when one is given. With `refuse` every AWS request gets 403.
 */
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface RecordedRequest {
  readonly method: string;
  /** Path and query, as sent. */
  readonly path: string;
  /** The Host header: path-style S3 keeps the stand-in's own address here. */
  readonly host: string;
  /** The signing name in the SigV4 credential scope (sts, cloudformation, s3, lambda…). */
  readonly service?: string;
  /** Query `Action`, the `X-Amz-Target` operation, or the REST call (GetFunction, PutObject…). */
  readonly action?: string;
  readonly accessKeyId?: string;
  /** The signing region in the credential scope. */
  readonly region?: string;
  /** The `X-Amz-Security-Token` that came along, if any (a session token from the caller's shell would). */
  readonly sessionToken?: string;
  /** CloudFormation's StackName parameter, by name. */
  readonly stackName?: string;
}

export interface StandInOptions {
  /** The release `/_localstack/health` reports. @default '4.14.0' */
  readonly version?: string;
  /** Answer every AWS request with 403 AccessDenied (the health check still answers). */
  readonly refuse?: boolean;
  /** Lambda functions GetFunction finds: name -> the ARN it reports. */
  readonly functions?: Readonly<Record<string, string>>;
  /** Where Secrets Manager requests go; without it they get 501. */
  readonly secretsManager?: string;
}

export interface LocalStackStandIn {
  readonly url: string;
  readonly requests: RecordedRequest[];
  /** S3 objects uploaded, by `bucket/key`. */
  readonly uploads: Map<string, Buffer>;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';
const REGION = 'us-east-1';
const CFN_NS = 'http://cloudformation.amazonaws.com/doc/2010-05-15/';
const STS_NS = 'https://sts.amazonaws.com/doc/2011-06-15/';
const BOOTSTRAP_VERSION = '30';

interface StackState {
  status: string;
  outputs: Record<string, string>;
}

export async function startLocalStackStandIn(options: StandInOptions = {}): Promise<LocalStackStandIn> {
  const requests: RecordedRequest[] = [];
  const uploads = new Map<string, Buffer>();
  const stacks = new Map<string, StackState>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = Buffer.concat(chunks);
      try {
        handle(req, res, body);
      } catch {
        if (!res.headersSent) res.writeHead(500).end();
      }
    });
  });

  function handle(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    const path = req.url ?? '/';
    if (path.startsWith('/_localstack/health')) {
      send(
        res,
        200,
        'application/json',
        JSON.stringify({
          services: { cloudformation: 'available', lambda: 'available', s3: 'available' },
          edition: 'community',
          version: options.version ?? '4.14.0',
        }),
      );
      return;
    }
    const auth = String(req.headers.authorization ?? '');
    const scope = /Credential=([^/]+)\/[^/]+\/([^/]+)\/([^/]+)\//.exec(auth);
    const service = scope?.[3];
    const form = new URLSearchParams(req.headers['content-type']?.includes('x-www-form-urlencoded') ? body.toString('utf8') : '');
    const target = typeof req.headers['x-amz-target'] === 'string' ? req.headers['x-amz-target'].split('.').pop() : undefined;
    const action = form.get('Action') ?? target ?? restAction(service, req.method ?? 'GET', path);
    requests.push({
      method: req.method ?? 'GET',
      path,
      host: String(req.headers.host ?? ''),
      ...(service !== undefined ? { service } : {}),
      ...(action !== undefined ? { action } : {}),
      ...(scope ? { accessKeyId: scope[1], region: scope[2] } : {}),
      ...(typeof req.headers['x-amz-security-token'] === 'string' ? { sessionToken: req.headers['x-amz-security-token'] } : {}),
      ...(form.get('StackName') ? { stackName: stackNameOf(form.get('StackName')!) } : {}),
    });
    if (options.refuse) {
      queryError(res, 403, 'AccessDenied', 'The stand-in refuses every request.');
      return;
    }
    switch (service) {
      case 'sts':
        return sts(res, action);
      case 'cloudformation':
        return cloudFormation(res, action, form);
      case 'ssm':
        return send(
          res,
          200,
          'application/x-amz-json-1.1',
          JSON.stringify({ Parameter: { Name: '/cdk-bootstrap/hnb659fds/version', Value: BOOTSTRAP_VERSION, Type: 'String', Version: 1 } }),
        );
      case 's3':
        return s3(req, res, path, body);
      case 'lambda':
        return lambda(res, path);
      case 'secretsmanager':
        return forward(req, res, body);
      default:
        return queryError(res, 501, 'NotImplemented', `The stand-in does not answer ${service ?? 'unsigned'} ${action ?? ''}`);
    }
  }

  function sts(res: ServerResponse, action: string | undefined): void {
    if (action === 'GetCallerIdentity') {
      return xml(
        res,
        'GetCallerIdentity',
        STS_NS,
        `<Arn>arn:aws:iam::${ACCOUNT}:root</Arn><UserId>${ACCOUNT}</UserId><Account>${ACCOUNT}</Account>`,
      );
    }
    if (action === 'AssumeRole') {
      return xml(
        res,
        'AssumeRole',
        STS_NS,
        '<Credentials><AccessKeyId>test</AccessKeyId><SecretAccessKey>test</SecretAccessKey><SessionToken>stand-in</SessionToken>' +
          '<Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>' +
          `<AssumedRoleUser><Arn>arn:aws:sts::${ACCOUNT}:assumed-role/stand-in/cdk</Arn><AssumedRoleId>AROASTANDIN:cdk</AssumedRoleId></AssumedRoleUser>`,
      );
    }
    return queryError(res, 400, 'InvalidAction', `stand-in: sts ${action}`);
  }

  function cloudFormation(res: ServerResponse, action: string | undefined, form: URLSearchParams): void {
    const name = stackNameOf(form.get('StackName') ?? '');
    const stackId = `arn:aws:cloudformation:${REGION}:${ACCOUNT}:stack/${name}/stand-in`;
    const stack = stacks.get(name);
    switch (action) {
      case 'DescribeStacks': {
        if (!stack) return queryError(res, 400, 'ValidationError', `Stack with id ${name} does not exist`);
        const outputs = Object.entries(stack.outputs)
          .map(([k, v]) => `<member><OutputKey>${k}</OutputKey><OutputValue>${v}</OutputValue></member>`)
          .join('');
        return xml(
          res,
          'DescribeStacks',
          CFN_NS,
          `<Stacks><member><StackName>${name}</StackName><StackId>${stackId}</StackId><StackStatus>${stack.status}</StackStatus>` +
            `<CreationTime>2026-01-01T00:00:00Z</CreationTime><Outputs>${outputs}</Outputs></member></Stacks>`,
        );
      }
      case 'CreateChangeSet':
        if (!stack) stacks.set(name, { status: 'REVIEW_IN_PROGRESS', outputs: {} });
        return xml(
          res,
          'CreateChangeSet',
          CFN_NS,
          `<Id>arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/${form.get('ChangeSetName')}/stand-in</Id><StackId>${stackId}</StackId>`,
        );
      case 'DescribeChangeSet':
        return xml(
          res,
          'DescribeChangeSet',
          CFN_NS,
          `<ChangeSetName>${form.get('ChangeSetName')}</ChangeSetName><ChangeSetId>arn:aws:cloudformation:${REGION}:${ACCOUNT}:changeSet/c/stand-in</ChangeSetId>` +
            `<StackName>${name}</StackName><StackId>${stackId}</StackId><Status>CREATE_COMPLETE</Status><ExecutionStatus>AVAILABLE</ExecutionStatus>` +
            '<Changes><member><Type>Resource</Type><ResourceChange><Action>Add</Action><LogicalResourceId>Any</LogicalResourceId>' +
            '<ResourceType>AWS::CloudFormation::WaitConditionHandle</ResourceType></ResourceChange></member></Changes>',
        );
      case 'ExecuteChangeSet':
        stacks.set(name, {
          status: 'CREATE_COMPLETE',
          outputs:
            name === 'CDKToolkit'
              ? {
                  BucketName: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}`,
                  BucketDomainName: `cdk-hnb659fds-assets-${ACCOUNT}-${REGION}.s3.amazonaws.com`,
                  ImageRepositoryName: `cdk-hnb659fds-container-assets-${ACCOUNT}-${REGION}`,
                  BootstrapVersion: BOOTSTRAP_VERSION,
                }
              : {},
        });
        return xml(res, 'ExecuteChangeSet', CFN_NS, '');
      case 'DescribeStackEvents':
        return xml(res, 'DescribeStackEvents', CFN_NS, '<StackEvents></StackEvents>');
      case 'GetTemplate':
        return xml(res, 'GetTemplate', CFN_NS, '<TemplateBody>{}</TemplateBody>');
      default:
        return queryError(res, 400, 'InvalidAction', `stand-in: cloudformation ${action}`);
    }
  }

  function s3(req: IncomingMessage, res: ServerResponse, path: string, body: Buffer): void {
    const [bucketAndKey, query = ''] = path.slice(1).split('?');
    if (req.method === 'PUT') {
      uploads.set(decodeURIComponent(bucketAndKey!), body);
      res.writeHead(200, { ETag: '"stand-in"' }).end();
      return;
    }
    if (req.method === 'HEAD') {
      res.writeHead(404).end();
      return;
    }
    if (query.startsWith('location'))
      return send(res, 200, 'application/xml', '<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>');
    if (query.startsWith('list-type=2')) {
      return send(
        res,
        200,
        'application/xml',
        '<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><KeyCount>0</KeyCount><IsTruncated>false</IsTruncated></ListBucketResult>',
      );
    }
    // GetBucketEncryption and the rest: "not configured", which the CDK CLI takes in its stride.
    return send(res, 404, 'application/xml', '<Error><Code>NoSuchKey</Code><Message>stand-in</Message></Error>');
  }

  function lambda(res: ServerResponse, path: string): void {
    const name = decodeURIComponent(/^\/2015-03-31\/functions\/([^/?]+)/.exec(path)?.[1] ?? '');
    const arn = options.functions?.[name] ?? Object.values(options.functions ?? {}).find((a) => a === name);
    if (arn === undefined) {
      res.writeHead(404, { 'Content-Type': 'application/json', 'x-amzn-ErrorType': 'ResourceNotFoundException' });
      res.end(JSON.stringify({ Type: 'User', Message: `Function not found: ${name}` }));
      return;
    }
    send(
      res,
      200,
      'application/json',
      JSON.stringify({ Configuration: { FunctionName: name, FunctionArn: arn, Runtime: 'nodejs24.x', State: 'Active' } }),
    );
  }

  function forward(req: IncomingMessage, res: ServerResponse, body: Buffer): void {
    if (options.secretsManager === undefined) {
      send(res, 501, 'application/x-amz-json-1.1', JSON.stringify({ __type: 'NotImplemented', message: 'stand-in: no Secrets Manager' }));
      return;
    }
    const upstream = new URL(options.secretsManager);
    const proxied = httpRequest(
      { host: upstream.hostname, port: upstream.port, method: req.method, path: req.url, headers: { ...req.headers, host: upstream.host } },
      (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
      },
    );
    proxied.on('error', () => send(res, 502, 'application/json', '{}'));
    proxied.end(body);
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    uploads,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A stack's name, also when the CLI names it by its ARN. */
function stackNameOf(raw: string): string {
  return /^arn:[^:]+:cloudformation:[^:]*:[^:]*:stack\/([^/]+)\//.exec(raw)?.[1] ?? raw;
}

function restAction(service: string | undefined, method: string, path: string): string | undefined {
  if (service === 'lambda' && method === 'GET' && path.startsWith('/2015-03-31/functions/')) return 'GetFunction';
  if (service !== 's3') return undefined;
  const query = path.split('?')[1] ?? '';
  if (method === 'PUT') return 'PutObject';
  if (method === 'HEAD') return 'HeadObject';
  if (query.startsWith('list-type=2')) return 'ListObjectsV2';
  if (query.startsWith('location')) return 'GetBucketLocation';
  if (query.startsWith('encryption')) return 'GetBucketEncryption';
  return `${method} object`;
}

function send(res: ServerResponse, status: number, contentType: string, text: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'x-amzn-RequestId': 'stand-in' });
  res.end(text);
}

function xml(res: ServerResponse, action: string, ns: string, inner: string): void {
  send(
    res,
    200,
    'text/xml',
    `<${action}Response xmlns="${ns}"><${action}Result>${inner}</${action}Result><ResponseMetadata><RequestId>stand-in</RequestId></ResponseMetadata></${action}Response>`,
  );
}

function queryError(res: ServerResponse, status: number, code: string, message: string): void {
  send(
    res,
    status,
    'text/xml',
    `<ErrorResponse><Error><Type>Sender</Type><Code>${code}</Code><Message>${message}</Message></Error><RequestId>stand-in</RequestId></ErrorResponse>`,
  );
}
