/**
 * The in-memory state: secrets, their versions and labels, by name and by ARN. Every mutation happens
 * synchronously inside one request, so concurrent requests (and rotation handlers calling back in) see
 * each operation whole: Node's single thread is the lock.
 */
import { randomArnSuffix, secretArn, secretArnPrefix } from './arn';
import { secretNotFound } from './wire-errors';

export interface SecretVersion {
  readonly versionId: string;
  readonly createdDate: Date;
  secretString?: string;
  secretBinary?: Buffer;
  /** Ordered as attached; a label is on at most one version of a secret. */
  stages: string[];
  lastAccessedDate?: Date;
}

export interface RotationRules {
  readonly AutomaticallyAfterDays?: number;
  readonly ScheduleExpression?: string;
  readonly Duration?: string;
}

export interface RotationConfig {
  enabled: boolean;
  lambdaArn?: string;
  rules?: RotationRules;
  lastRotatedDate?: Date;
  /** Where the schedule counts from: the last successful rotation, or when rotation was configured. */
  scheduleBase?: Date;
}

export interface SecretRecord {
  readonly arn: string;
  readonly name: string;
  readonly createdDate: Date;
  description?: string;
  kmsKeyId?: string;
  lastChangedDate: Date;
  lastAccessedDate?: Date;
  /** Set while the secret is scheduled for deletion. */
  deletedDate?: Date;
  /** When a scheduled deletion becomes final. */
  purgeDate?: Date;
  readonly tags: Map<string, string>;
  /** In creation order. */
  readonly versions: Map<string, SecretVersion>;
  rotation?: RotationConfig;
}

export function hasValue(version: SecretVersion): boolean {
  return version.secretString !== undefined || version.secretBinary !== undefined;
}

export class SecretStore {
  private readonly byName = new Map<string, SecretRecord>();
  private readonly byArn = new Map<string, SecretRecord>();

  constructor(
    readonly region: string,
    readonly accountId: string,
    private readonly now: () => Date,
  ) {}

  /** The secret named by a name, a full ARN or a partial ARN (without the random suffix), if any. */
  find(secretId: string): SecretRecord | undefined {
    this.purgeExpired();
    const prefix = secretArnPrefix(this.region, this.accountId);
    if (secretId.startsWith('arn:')) {
      const exact = this.byArn.get(secretId);
      if (exact) return exact;
      return secretId.startsWith(prefix) ? this.byName.get(secretId.slice(prefix.length)) : undefined;
    }
    return this.byName.get(secretId);
  }

  /** As `find`, or ResourceNotFoundException. */
  resolve(secretId: string): SecretRecord {
    const secret = this.find(secretId);
    if (!secret) throw secretNotFound();
    return secret;
  }

  create(name: string): SecretRecord {
    const now = this.now();
    let arn: string;
    do arn = secretArn(this.region, this.accountId, name, randomArnSuffix());
    while (this.byArn.has(arn));
    const secret: SecretRecord = {
      arn,
      name,
      createdDate: now,
      lastChangedDate: now,
      tags: new Map(),
      versions: new Map(),
    };
    this.byName.set(name, secret);
    this.byArn.set(arn, secret);
    return secret;
  }

  remove(secret: SecretRecord): void {
    if (this.byName.get(secret.name) === secret) this.byName.delete(secret.name);
    this.byArn.delete(secret.arn);
  }

  all(): SecretRecord[] {
    this.purgeExpired();
    return [...this.byArn.values()];
  }

  /** Drops secrets whose recovery window has ended, as the service does on its own. */
  private purgeExpired(): void {
    const now = this.now().getTime();
    for (const secret of this.byArn.values()) {
      if (secret.purgeDate !== undefined && secret.purgeDate.getTime() <= now) this.remove(secret);
    }
  }
}
