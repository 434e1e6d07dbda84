/**
 * The foundation's promise: both servers are reached over TCP with password logins that can fail.
 */
import { canLoginMysql, canLoginPostgres } from '../../local/admin-connections';
import { createMysqlUser, createPostgresUser, type MysqlFixtureUser, type PostgresFixtureUser } from '../../local/fixtures';

describe('PostgreSQL password logins', () => {
  let user: PostgresFixtureUser;
  beforeAll(async () => {
    user = await createPostgresUser();
  });
  afterAll(() => user.drop());

  it('accepts the fixture user with its password', async () => {
    await expect(canLoginPostgres(user.username, user.password)).resolves.toBe(true);
  });

  it('refuses the fixture user with a wrong password', async () => {
    await expect(canLoginPostgres(user.username, `${user.password}x`)).resolves.toBe(false);
  });

  it('drops the user, after which even the right password is refused', async () => {
    const other = await createPostgresUser();
    await other.drop();
    await other.drop();
    await expect(canLoginPostgres(other.username, other.password)).resolves.toBe(false);
  });
});

describe('MariaDB password logins', () => {
  let user: MysqlFixtureUser;
  beforeAll(async () => {
    user = await createMysqlUser();
  });
  afterAll(() => user.drop());

  it('accepts the fixture user with its password', async () => {
    await expect(canLoginMysql(user.username, user.password)).resolves.toBe(true);
  });

  it('refuses the fixture user with a wrong password', async () => {
    await expect(canLoginMysql(user.username, `${user.password}x`)).resolves.toBe(false);
  });

  it('drops the user, after which even the right password is refused', async () => {
    const other = await createMysqlUser();
    await other.drop();
    await other.drop();
    await expect(canLoginMysql(other.username, other.password)).resolves.toBe(false);
  });
});
