/**
 * The PostgreSQL rotation strategy: the connector of `postgres-connector.ts`, the password changes of
 * `postgres-passwords.ts` and the alternate user's sync of `postgres-alternate-user.ts`, all speaking
 * the SQL of `postgres-sql.ts`. Importing this module registers the strategy for
 * `createRotationHandler({ engine: 'postgres' })`.
 */
import { registerEngineStrategy } from '../rotation/engine-registry';
import type { EngineStrategy } from '../rotation/engine-strategy';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../rotation/password-policy';
import { diagnosePostgresRefusal, savePostgresPassword } from './postgres-refusals';
import { syncPostgresAlternateUser } from './postgres-alternate-user';
import { connectPostgres } from './postgres-connector';
import { readPostgresServerInfo, setOwnPostgresPassword, setPostgresPasswordAsMaster } from './postgres-passwords';
import { postgresUsernameProblem } from './postgres-sql';

export { connectPostgres } from './postgres-connector';

export const postgresStrategy: EngineStrategy = {
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
  savePassword: savePostgresPassword,
  syncAlternateUser: syncPostgresAlternateUser,
};

registerEngineStrategy(postgresStrategy);
