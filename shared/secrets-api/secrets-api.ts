/**
 * What the rotation asks of Secrets Manager: four operations, with the SDK's own request and response
 * shapes (type-only imports, so nothing of the SDK is loaded for them). Two implementations exist: the
 * signed client of `signed-client.ts`, the Lambdas' default, and `sdkSecretsApi`, which puts any SDK
 * `SecretsManagerClient` (a test's mock, a caller's own client) behind the same four methods.
 */
import type {
  DescribeSecretCommandInput,
  DescribeSecretCommandOutput,
  GetSecretValueCommandInput,
  GetSecretValueCommandOutput,
  PutSecretValueCommandInput,
  PutSecretValueCommandOutput,
  UpdateSecretVersionStageCommandInput,
  UpdateSecretVersionStageCommandOutput,
} from '@aws-sdk/client-secrets-manager';

/** Per-call options. */
export interface CallOptions {
  /** Aborts the call (and any retry of it): the rotation passes the Lambda's deadline here. */
  readonly abortSignal?: AbortSignal;
}

/**
 * The Secrets Manager operations a rotation step uses. Each rejects with an error shaped as the SDK's
 * service errors (`name` the exception's short name, `$metadata.httpStatusCode`), so
 * `fromSecretsManagerError` types it the same way whichever implementation raised it.
 */
export interface SecretsApi {
  describeSecret(input: DescribeSecretCommandInput, options?: CallOptions): Promise<DescribeSecretCommandOutput>;
  getSecretValue(input: GetSecretValueCommandInput, options?: CallOptions): Promise<GetSecretValueCommandOutput>;
  putSecretValue(input: PutSecretValueCommandInput, options?: CallOptions): Promise<PutSecretValueCommandOutput>;
  updateSecretVersionStage(
    input: UpdateSecretVersionStageCommandInput,
    options?: CallOptions,
  ): Promise<UpdateSecretVersionStageCommandOutput>;
}
