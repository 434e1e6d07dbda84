/** What a rotation function rotates (the engine) and how (the strategy), and where each engine's code lives. */
import * as path from 'path';

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
