/**
 * The PostgreSQL database engine: the connector of `postgres-connector.ts`, the password changes of
 * `postgres-passwords.ts` and the alternate user's sync of `postgres-alternate-user.ts`, all speaking
 * the SQL of `postgres-sql.ts`. Pass `postgresEngine` as `createRotationHandler`'s `engine`.
 */
import type { DatabaseEngine } from '../rotation/database-engine';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../rotation/password-policy';
import { diagnosePostgresRefusal, postgresRefusedForItsTls, savePostgresPassword } from './postgres-refusals';
import { syncPostgresAlternateUser } from './postgres-alternate-user';
import { connectPostgres } from './postgres-connector';
import { readPostgresServerInfo, setOwnPostgresPassword, setPostgresPasswordAsMaster } from './postgres-passwords';
import { postgresUsernameProblem } from './postgres-sql';

export { connectPostgres } from './postgres-connector';

/**
 * PostgreSQL (and Aurora PostgreSQL) for `createRotationHandler`: its statements carry a password
 * verifier computed client-side, never the password. Loads `pg` only when it first connects.
 */
export const postgresEngine: DatabaseEngine = {
  family: 'postgres',
  defaultExcludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.postgres,
  defaultConnector: connectPostgres,
  usernameProblem: (username) => postgresUsernameProblem(username),
  serverInfo: readPostgresServerInfo,
  async runTestQuery(session, sql) {
    await session.query(sql);
  },
  setOwnPassword: setOwnPostgresPassword,
  setPasswordAsMaster: setPostgresPasswordAsMaster,
  diagnoseRefusal: diagnosePostgresRefusal,
  refusedForItsTls: postgresRefusedForItsTls,
  savePassword: savePostgresPassword,
  syncAlternateUser: syncPostgresAlternateUser,
};
