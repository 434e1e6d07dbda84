/** What a rotation function rotates (the engine) and how (the strategy), and where each engine's code lives. */
import * as path from 'path';
import { ConfigError } from '../shared/errors';

/**
 * The database engine a rotation function rotates. Its values are the toolkit's `EngineFamily` names, so a
 * `RotationEngine` is usable wherever an engine family is asked for; the secret's own `engine` value
 * (`aurora-postgresql`, `mariadb`, …) maps to one of them through `engineFamily` in shared/database-secret.ts.
 */
export enum RotationEngine {
  POSTGRES = 'postgres',
  MYSQL = 'mysql',
}

/** The value of the function's ROTATION_STRATEGY variable. */
export enum RotationStrategy {
  /** The user changes its own password; the simplest, recommended for most users. */
  SINGLE_USER = 'single-user',
  /** Two users alternate; needs a master (superuser) secret whose ARN is the secret's `masterarn`. */
  ALTERNATING_USERS = 'alternating-users',
}

/** The value of the function's DB_TLS_MODE variable. */
export enum DbTlsMode {
  VERIFY_FULL = 'verify-full',
  REQUIRE = 'require',
  PREFER = 'prefer',
  DISABLE = 'disable',
}

const ENTRY_DIRECTORY: Readonly<Record<RotationEngine, string>> = {
  [RotationEngine.POSTGRES]: 'postgres-rotation',
  [RotationEngine.MYSQL]: 'mysql-rotation',
};

/**
 * The handler entry files for an engine, most preferred first: the TypeScript source in a checkout, the
 * compiled JavaScript when the toolkit is installed from `dist/` (lib and lambdas compile side by side).
 * lib knows the handlers only by path, never by import, so synthesizing never loads database drivers.
 */
export function rotationEntryCandidates(engine: RotationEngine, libDirectory: string = __dirname): string[] {
  const base = path.join(libDirectory, '..', 'lambdas', ENTRY_DIRECTORY[engine], 'index');
  return [`${base}.ts`, `${base}.js`];
}

/**
 * Checks that a prop holds one of an enum's values, for callers the compiler does not check (JavaScript,
 * `as any`, values read from context or JSON): a wrong engine or strategy would otherwise synthesize and
 * deploy, then fail the first rotation on its environment variable.
 * @param where the construct path, for the message
 * @param prop the prop's name, for the message (e.g. `engine`)
 * @param value what the caller gave
 * @param values the enum (`RotationEngine`, `RotationStrategy`, `DbTlsMode`)
 * @throws ConfigError naming the prop, the value given and the accepted values
 */
export function assertEnumProp<T extends string>(
  where: string,
  prop: string,
  value: unknown,
  values: Record<string, T>,
): asserts value is T {
  const accepted = Object.values(values);
  if (!accepted.includes(value as T)) {
    const given = value === undefined ? 'nothing' : typeof value === 'string' ? `"${value}"` : typeof value;
    throw new ConfigError(`${where}: ${prop} must be one of ${accepted.join(', ')}; got ${given}`);
  }
}
