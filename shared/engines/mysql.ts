/**
 * The MySQL / MariaDB / Aurora MySQL database engine. The SQL is in mysql-sql.ts (per flavour),
 * mysql-grants.ts (copying SHOW GRANTS), mysql-passwords.ts (single-user password changes) and
 * mysql-alternate-user.ts (the alternate user's sync, and the order of its statements); the mysql2
 * connector in mysql-connector.ts. Pass `mysqlEngine` as `createRotationHandler`'s `engine`.
 */
import type { DatabaseEngine, SqlSession } from '../rotation/database-engine';
import { DEFAULT_EXCLUDE_CHARACTERS } from '../rotation/password-policy';
import { diagnoseMysqlRefusal, saveMysqlPassword } from './mysql-refusals';
import { syncMysqlAlternateUser } from './mysql-alternate-user';
import { setMysqlPasswordAsMaster, setOwnMysqlPassword } from './mysql-passwords';
import { mysqlConnector } from './mysql-connector';
import { readMysqlServerInfo } from './mysql-server-info';
import { usernameProblem } from './mysql-sql';

/**
 * MySQL, MariaDB and Aurora MySQL for `createRotationHandler`: the server's flavour and version are read
 * from the server, and each statement is written for it. Loads `mysql2` only when it first connects.
 */
export const mysqlEngine: DatabaseEngine = {
  family: 'mysql',
  defaultExcludeCharacters: DEFAULT_EXCLUDE_CHARACTERS.mysql,
  defaultConnector: mysqlConnector,
  usernameProblem,
  serverInfo: readMysqlServerInfo,
  async runTestQuery(session: SqlSession, sql: string): Promise<void> {
    await session.query(sql);
  },
  setOwnPassword: setOwnMysqlPassword,
  setPasswordAsMaster: setMysqlPasswordAsMaster,
  diagnoseRefusal: diagnoseMysqlRefusal,
  savePassword: saveMysqlPassword,
  syncAlternateUser: syncMysqlAlternateUser,
};
