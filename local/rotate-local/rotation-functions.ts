/**
 * Whether an endpoint other than the embedded one has a rotation function, asked through its Lambda
 * API (GetFunction) before anything is written. LocalStack and moto both answer a RotateSecret that
 * names an unknown function with ResourceNotFoundException, which reads as "secret not found"; asking
 * first turns that into a line that says what is missing and how to deploy it. The ARN the emulator
 * reports is the one to attach: its account need not be LocalStack's 000000000000 (moto's is
 * 123456789012).
 */
import { LOCAL_ACCOUNT_ID, rotationFunctionArn, rotationFunctionName, selectScenarios } from './scenarios';
import { SignatureV4 } from '@smithy/signature-v4';
import { NodeSha256 } from '../../shared/secrets-api/node-sha256';
import type { EngineFamily } from '../../shared/database-secret';
import type { RotationStrategyName } from '../../shared/rotation/rotation-settings';

/** The answer about one function. */
export type FunctionLookup =
  | { readonly state: 'found'; readonly arn: string }
  | { readonly state: 'missing' }
  /** The endpoint serves no Lambda API (as the repo's own endpoint) or answered something else. */
  | { readonly state: 'unknown'; readonly detail: string }
  /** Nothing answered at all. */
  | { readonly state: 'unreachable'; readonly code: string };

/** Lambda's REST path for GetFunction. */
const GET_FUNCTION_PATH = '/2015-03-31/functions/';

/**
 * Asks `endpoint` for function `name` (GetFunction, signed with LocalStack's test credentials).
 * @param timeoutMs how long to wait (default 5 s)
 */
export async function lookUpFunction(endpoint: string, region: string, name: string, timeoutMs = 5000): Promise<FunctionLookup> {
  const url = new URL(`${endpoint.replace(/\/+$/, '')}${GET_FUNCTION_PATH}${encodeURIComponent(name)}`);
  // Emulators do not check signatures, but LocalStack picks the service from the credential scope.
  const signer = new SignatureV4({
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
    region,
    service: 'lambda',
    sha256: NodeSha256,
  });
  const { headers } = await signer.sign({
    method: 'GET',
    protocol: url.protocol,
    hostname: url.hostname,
    ...(url.port !== '' ? { port: Number(url.port) } : {}),
    path: url.pathname,
    headers: { host: url.host },
    query: {},
  });
  let response: Response;
  try {
    response = await fetch(url, { headers, signal: AbortSignal.timeout(timeoutMs) });
  } catch (err) {
    const code = networkCode(err);
    // fetch refuses some ports outright (1, 6000, 10080…: the Fetch standard's "bad ports") without trying
    // them; the SDK's own client does not, so the endpoint may well be there: ask no more, use the documented ARN.
    // Its message is not shown: for a URL with credentials in it, undici's quotes the URL.
    if (code === undefined) return { state: 'unknown', detail: 'GetFunction could not be sent: fetch refused the URL' };
    return { state: 'unreachable', code };
  }
  const text = await response.text().catch(() => '');
  const body = parseJson(text);
  if (response.ok) {
    const configuration = body?.Configuration as { FunctionArn?: unknown } | undefined;
    const arn = typeof configuration?.FunctionArn === 'string' ? configuration.FunctionArn : undefined;
    return arn !== undefined ? { state: 'found', arn } : { state: 'unknown', detail: 'GetFunction answered without a FunctionArn' };
  }
  const type = errorType(response.headers.get('x-amzn-errortype'), body);
  if (response.status === 404 && type === 'ResourceNotFoundException') return { state: 'missing' };
  return { state: 'unknown', detail: `GetFunction answered HTTP ${response.status}${type ? ` ${type}` : ''}` };
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const parsed: unknown = JSON.parse(text);
    return parsed !== null && typeof parsed === 'object' ? (parsed as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/** The error type from `x-amzn-ErrorType` (`Name:url`) or the body's `__type`/`code`/`Code` (`ns#Name`). */
function errorType(header: string | null, body: Record<string, unknown> | undefined): string | undefined {
  const raw = header ?? [body?.__type, body?.code, body?.Code].find((v): v is string => typeof v === 'string');
  if (raw === undefined) return undefined;
  return raw.split(':')[0]!.split('#').pop();
}

/** The network error code of a failed fetch (ECONNREFUSED, ETIMEDOUT…); undefined when no connection was tried. */
function networkCode(err: unknown): string | undefined {
  const cause = (err as { cause?: { code?: unknown; errors?: Array<{ code?: unknown }> } } | null)?.cause;
  const code = cause?.code ?? cause?.errors?.find((e) => typeof e.code === 'string')?.code;
  if (typeof code === 'string') return code;
  return (err as { name?: unknown } | null)?.name === 'TimeoutError' ? 'ETIMEDOUT' : undefined;
}

/** The sentence a user needs when an endpoint lacks the functions: the names, and how to put them there. */
export function missingFunctionsHint(kind: 'localstack' | 'endpoint'): string {
  const names = selectScenarios()
    .map((s) => rotationFunctionName(s.engine, s.strategy))
    .join(', ');
  return kind === 'localstack'
    ? 'deploy the rotation functions into LocalStack with `npm run localstack:deploy`'
    : `rotate:local drives that emulator's own RotateSecret, which needs the rotation functions deployed in it as Lambda functions named ${names} ` +
        '(the stack `npm run localstack:deploy` deploys); or use `npm run local:endpoint`, which has them built in';
}

/**
 * Resolves each function once per run: the ARN the endpoint reports, else (no Lambda API to ask) the
 * documented ARN in LocalStack's account, as the repo's own endpoint registers them.
 */
export class RotationFunctionResolver {
  private readonly answers = new Map<string, Promise<FunctionLookup>>();

  constructor(
    private readonly endpoint: string,
    private readonly region: string,
    private readonly ask: typeof lookUpFunction = lookUpFunction,
  ) {}

  /** The answer for one scenario's function, asked at most once. */
  lookUp(engine: EngineFamily, strategy: RotationStrategyName): Promise<FunctionLookup> {
    const name = rotationFunctionName(engine, strategy);
    let answer = this.answers.get(name);
    if (answer === undefined) {
      answer = this.ask(this.endpoint, this.region, name);
      this.answers.set(name, answer);
    }
    return answer;
  }

  /** The documented ARN, for when the endpoint cannot be asked. */
  fallbackArn(engine: EngineFamily, strategy: RotationStrategyName): string {
    return rotationFunctionArn(engine, strategy, this.region, LOCAL_ACCOUNT_ID);
  }
}
