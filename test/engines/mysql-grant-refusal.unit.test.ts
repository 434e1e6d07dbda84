/** The statement that lets a master give what it was refused, for each kind of grant the sync runs. */
import { grantRemedy, MysqlGrantRefusedError } from '../../shared/engines/mysql-grant-refusal';

const TO = "'app_clone'@'%'";
const M = "'admin'@'%'";

describe('grantRemedy', () => {
  it('privileges, columns and routines: the same grant to the master WITH GRANT OPTION', () => {
    expect(grantRemedy(`GRANT RELOAD, PROCESS ON *.* TO ${TO}`, TO, M)).toBe(`GRANT RELOAD, PROCESS ON *.* TO ${M} WITH GRANT OPTION`);
    expect(grantRemedy(`GRANT SELECT ON \`db\`.* TO ${TO} WITH GRANT OPTION`, TO, M)).toBe(
      `GRANT SELECT ON \`db\`.* TO ${M} WITH GRANT OPTION`,
    );
    expect(grantRemedy(`GRANT UPDATE (\`a TO b\`) ON \`d\`.\`t\` TO ${TO}`, TO, M)).toBe(
      `GRANT UPDATE (\`a TO b\`) ON \`d\`.\`t\` TO ${M} WITH GRANT OPTION`,
    );
    expect(grantRemedy(`GRANT PROXY ON 'x'@'%' TO ${TO}`, TO, M)).toBe(`GRANT PROXY ON 'x'@'%' TO ${M} WITH GRANT OPTION`);
  });

  it('a MariaDB package: the grant under the sql_mode that alone parses it', () => {
    expect(grantRemedy(`GRANT EXECUTE ON PACKAGE BODY \`d\`.\`p\` TO ${TO}`, TO, M)).toBe(
      `SET SESSION sql_mode = 'ORACLE'; GRANT EXECUTE ON PACKAGE BODY \`d\`.\`p\` TO ${M} WITH GRANT OPTION`,
    );
    expect(grantRemedy(`REVOKE EXECUTE ON PACKAGE \`d\`.\`p\` FROM ${TO}`, TO, M)).toBe(
      `SET SESSION sql_mode = 'ORACLE'; GRANT EXECUTE ON PACKAGE \`d\`.\`p\` TO ${M} WITH GRANT OPTION`,
    );
    expect(grantRemedy(`GRANT EXECUTE ON PROCEDURE \`d\`.\`package\` TO ${TO}`, TO, M)).not.toMatch(/sql_mode/);
  });

  it('roles: WITH ADMIN OPTION; revokes: the right they take back; default roles: write access to mysql', () => {
    expect(grantRemedy(`GRANT \`r ON x\` TO ${TO}`, TO, M)).toBe(`GRANT \`r ON x\` TO ${M} WITH ADMIN OPTION`);
    expect(grantRemedy(`REVOKE ADMIN OPTION FOR \`r\` FROM ${TO}`, TO, M)).toBe(`GRANT \`r\` TO ${M} WITH ADMIN OPTION`);
    expect(grantRemedy(`REVOKE DELETE ON \`db\`.* FROM ${TO}`, TO, M)).toBe(`GRANT DELETE ON \`db\`.* TO ${M} WITH GRANT OPTION`);
    expect(grantRemedy(`SET DEFAULT ROLE \`r\` FOR ${TO}`, TO, M)).toMatch(/^GRANT UPDATE ON mysql\.\* TO 'admin'@'%'/);
  });

  it('the error carries a stable reason and its parts, in toJSON too', () => {
    const e = new MysqlGrantRefusedError('GRANT RELOAD ON *.*', M, 'GRANT RELOAD ON *.* TO x', '1045', 'nothing was left');
    expect(e).toMatchObject({ code: 'DATABASE', name: 'MysqlGrantRefusedError', reason: 'master-cannot-grant', master: M });
    expect(e.toJSON()).toMatchObject({ reason: 'master-cannot-grant', grant: 'GRANT RELOAD ON *.*', remedy: 'GRANT RELOAD ON *.* TO x' });
  });
});
