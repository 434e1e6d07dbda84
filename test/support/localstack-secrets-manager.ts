/**
 * A Secrets Manager on loopback that rotates as LocalStack's does, for the LocalStack stand-in. Every
 * action but RotateSecret is the embedded endpoint's own (same store, same wire format); RotateSecret
 * follows LocalStack's Secrets Manager provider (localstack-core/localstack/services/secretsmanager/
 * provider.py, its patch of moto's `rotate_secret`, read at localstack/localstack 8b9a79f05), where it
 * differs from AWS and from the embedded endpoint in ways a rotation function sees:
 *
 * - the request must carry a ClientRequestToken (the SDK fills one in); the function is the call's
 *   RotationLambdaARN, else the one stored on the secret, else InvalidRequestException; a function that
 *   does not exist is ResourceNotFoundException ("Lambda does not exist or could not be accessed");
 * - RotationRules are read per call; without them the secret keeps its earlier period, and rotation is
 *   marked enabled only when that period is over 0 days (DescribeSecret then leaves RotationEnabled out);
 * - before the first step it adds a version under the token with AWSPENDING and NO value (moto writes a
 *   dummy value and LocalStack deletes it), taking AWSPENDING from every other version;
 * - the event is `{ Step, SecretId: <the secret's NAME, whatever the caller passed>, ClientRequestToken }`:
 *   no RotationToken; the steps run in order create, set, test, finish, synchronously, stopping at the
 *   first that fails;
 * - a failing step is swallowed: RotateSecret answers success with the new VersionId and AWSPENDING stays
 *   on that version;
 * - AWSPENDING on a version without AWSCURRENT is an unfinished rotation: the next RotateSecret runs the
 *   four steps again under THAT version's id, answers success if they pass, and InvalidRequestException
 *   "Previous rotation request is still in progress." if one fails;
 * - after a successful rotation nothing cleans up: AWSPENDING stays beside AWSCURRENT on the new version
 *   (the next RotateSecret's new version takes it).
 * RotateImmediately=false stores the configuration and invokes nothing. Either way the secret's last
 * rotation date is set, also when a step failed; DescribeSecret shows the rotation fields (enabled,
 * function, rules, last rotation) only once a period over 0 days was given.
 */
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import { lambdaArn } from '../../emulator/arn';
import type { OperationTable } from '../../emulator/context';
import { optBoolean, optObject, optString, type JsonObject } from '../../emulator/input';
import { buildOperationTable } from '../../emulator/operation-table';
import { readSecretId, requireLive } from '../../emulator/operations/secret-lifecycle';
import { RotationCoordinator } from '../../emulator/rotation';
import { createEndpointServer } from '../../emulator/server';
import { SecretStore, type SecretRecord } from '../../emulator/store';
import type { RotationFunction } from '../../emulator/types';
import { AWSCURRENT, AWSPENDING, detachStage, stageHolder } from '../../emulator/version-stages';
import { invalidParameter, invalidRequest, WireError } from '../../emulator/wire-errors';

/** One Lambda invocation LocalStack made for a rotation, as the function received it. */
export interface LocalStackInvocation {
  readonly functionArn: string;
  readonly event: { readonly Step: string; readonly SecretId: string; readonly ClientRequestToken: string };
  readonly outcome: 'succeeded' | 'failed';
  /** The thrown error's name, when the step failed (LocalStack only logs it). */
  readonly errorName?: string;
}

export interface LocalStackSecretsManager {
  /** `http://127.0.0.1:<port>`. */
  readonly endpoint: string;
  readonly region: string;
  readonly accountId: string;
  /** Deploys a rotation function under its Lambda ARN (found also by its function name). */
  registerRotationFunction(arn: string, handler: RotationFunction): void;
  /** Every invocation, oldest first. */
  readonly invocations: LocalStackInvocation[];
  close(): Promise<void>;
}

const STEPS = ['createSecret', 'setSecret', 'testSecret', 'finishSecret'] as const;

export async function startLocalStackSecretsManager(
  options: { readonly region?: string; readonly accountId?: string } = {},
): Promise<LocalStackSecretsManager> {
  const region = options.region ?? 'us-east-1';
  const accountId = options.accountId ?? '000000000000';
  const now = (): Date => new Date();
  const store = new SecretStore(region, accountId, now);
  // Only for the actions LocalStack answers as the embedded endpoint does (CancelRotateSecret).
  const coordinator = new RotationCoordinator({ store, now, region, accountId, log: () => undefined, surfaceErrors: false });
  const functions = new Map<string, RotationFunction>();
  /** LocalStack keeps the function and the period on the secret even while rotation is not "enabled". */
  const functionOf = new Map<string, string>();
  const periodOf = new Map<string, number>();
  const invocations: LocalStackInvocation[] = [];

  const findFunction = (id: string): RotationFunction | undefined => functions.get(id) ?? functions.get(lambdaArn(region, accountId, id));

  async function rotateSecret(input: JsonObject): Promise<JsonObject> {
    if (input.ClientRequestToken === undefined) {
      throw invalidRequest('You must provide a ClientRequestToken value. We recommend a UUID-type value.');
    }
    const token = optString(input, 'ClientRequestToken');
    if (token && (token.length < 32 || token.length > 64)) throw invalidParameter('ClientRequestToken must be 32-64 characters long.');
    const secret = requireLive(store.resolve(readSecretId(input)));
    const functionArn = optString(input, 'RotationLambdaARN') ?? functionOf.get(secret.arn);
    if (!functionArn) throw invalidRequest('No Lambda rotation function ARN is associated with this secret.');
    if (functionArn.length > 2048) throw invalidParameter('RotationLambdaARN must <= 2048 characters long.');
    let period = periodOf.get(secret.arn) ?? 0;
    const rules = optObject(input, 'RotationRules');
    if (rules !== undefined && typeof rules.AutomaticallyAfterDays === 'number') {
      period = rules.AutomaticallyAfterDays;
      if (period < 1 || period > 1000) throw invalidParameter('RotationRules.AutomaticallyAfterDays must be within 1-1000.');
    }
    const handler = findFunction(functionArn);
    if (!handler) throw new WireError('ResourceNotFoundException', 'Lambda does not exist or could not be accessed', 400);

    const pendingHolder = stageHolder(secret, AWSPENDING);
    const unfinished = pendingHolder && !pendingHolder.stages.includes(AWSCURRENT) ? pendingHolder : undefined;

    functionOf.set(secret.arn, functionArn);
    periodOf.set(secret.arn, period);
    if (period > 0) {
      secret.rotation = {
        ...secret.rotation,
        enabled: true,
        lambdaArn: functionArn,
        rules: { AutomaticallyAfterDays: period },
        scheduleBase: now(),
      };
    }

    if (optBoolean(input, 'RotateImmediately') === false) return rotated(secret);

    const versionId = unfinished?.versionId ?? token ?? randomUUID();
    if (!unfinished) addValuelessPending(secret, versionId);
    for (const step of STEPS) {
      const event = { Step: step, SecretId: secret.name, ClientRequestToken: versionId };
      try {
        await handler(event);
        invocations.push({ functionArn, event, outcome: 'succeeded' });
      } catch (error) {
        invocations.push({ functionArn, event, outcome: 'failed', errorName: error instanceof Error ? error.name : typeof error });
        if (unfinished) throw invalidRequest('Previous rotation request is still in progress.');
        break;
      }
    }
    return rotated(secret, versionId);
  }

  /** The answer; LocalStack stamps the last rotation date whatever the steps did (shown with a period only). */
  function rotated(secret: SecretRecord, versionId?: string): JsonObject {
    if (secret.rotation) secret.rotation.lastRotatedDate = now();
    return { ARN: secret.arn, Name: secret.name, ...(versionId !== undefined ? { VersionId: versionId } : {}) };
  }

  /** A version under `versionId` holding only AWSPENDING and no value; versions left with no label go. */
  function addValuelessPending(secret: SecretRecord, versionId: string): void {
    for (const version of [...secret.versions.values()]) {
      if (!version.stages.includes(AWSPENDING)) continue;
      detachStage(version, AWSPENDING);
      if (version.stages.length === 0) secret.versions.delete(version.versionId);
    }
    secret.versions.set(versionId, { versionId, createdDate: now(), stages: [AWSPENDING] });
  }

  const operations: OperationTable = {
    ...buildOperationTable({ store, now }, coordinator),
    RotateSecret: (input) => rotateSecret(input),
  };
  const server: Server = createEndpointServer(operations, () => undefined);
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    region,
    accountId,
    invocations,
    registerRotationFunction: (arn, handler) => {
      functions.set(arn, handler);
    },
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((err) => (err ? reject(err) : resolve()));
        server.closeAllConnections();
      }),
  };
}
