/**
 * Rewriting SHOW GRANTS rows for another grantee, for the row shapes MySQL 5.7, 8.x and MariaDB print.
 */
import { copyGrantRow } from '../../shared/engines/mysql-grants';
import { tokenize, unquote } from '../../shared/engines/mysql-statement-tokens';

const TO = "'new'@'h'";

describe('copyGrantRow', () => {
  it.each([
    ["GRANT USAGE ON *.* TO 'app'@'%'", "GRANT USAGE ON *.* TO 'new'@'h'"],
    ['GRANT SELECT ON `db`.* TO `app`@`%` WITH GRANT OPTION', "GRANT SELECT ON `db`.* TO 'new'@'h' WITH GRANT OPTION"],
    [
      "GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*ABC' REQUIRE ISSUER '/CN=x''y' SUBJECT '/CN=a b' WITH MAX_QUERIES_PER_HOUR 10",
      "GRANT USAGE ON *.* TO 'new'@'h' WITH MAX_QUERIES_PER_HOUR 10",
    ],
    ["GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED VIA ed25519 USING 'secret-ish'", "GRANT USAGE ON *.* TO 'new'@'h'"],
    ['GRANT SELECT (`a`), UPDATE (`a`, `b`) ON `db`.`t` TO `app`@`%`', "GRANT SELECT (`a`), UPDATE (`a`, `b`) ON `db`.`t` TO 'new'@'h'"],
    ['GRANT EXECUTE ON PROCEDURE `db`.`p` TO `app`@`%`', "GRANT EXECUTE ON PROCEDURE `db`.`p` TO 'new'@'h'"],
    ['GRANT `role` TO `app`@`%` WITH ADMIN OPTION', "GRANT `role` TO 'new'@'h' WITH ADMIN OPTION"],
    ['GRANT `r1`@`%`,`r2`@`%` TO `app`@`%`', "GRANT `r1`@`%`,`r2`@`%` TO 'new'@'h'"],
    ["GRANT PROXY ON 'other'@'%' TO 'app'@'%' WITH GRANT OPTION", "GRANT PROXY ON 'other'@'%' TO 'new'@'h' WITH GRANT OPTION"],
    // Names holding the keywords the template split on.
    ['GRANT SELECT ON `a TO b`.`with x` TO `we TO`@`%`', "GRANT SELECT ON `a TO b`.`with x` TO 'new'@'h'"],
    ["GRANT SELECT ON `d`.* TO 'o\\'brien TO x'@'%'", "GRANT SELECT ON `d`.* TO 'new'@'h'"],
    ['GRANT SELECT ON `d``q`.* TO `a``b`@`%`', "GRANT SELECT ON `d``q`.* TO 'new'@'h'"],
    ['REVOKE INSERT ON `mysql`.* FROM `app`@`%`', "REVOKE INSERT ON `mysql`.* FROM 'new'@'h'"],
    ['SET DEFAULT ROLE `r` FOR `app`@`%`', "SET DEFAULT ROLE `r` FOR 'new'@'h'"],
  ])('%s', (row, expected) => {
    expect(copyGrantRow(row, TO).sql).toBe(expected);
  });

  it('summarises the privilege part only, without any password hash', () => {
    const copy = copyGrantRow("GRANT USAGE ON *.* TO `app`@`%` IDENTIFIED BY PASSWORD '*ABCDEF'", TO);
    expect(copy.summary).toBe('GRANT USAGE ON *.*');
    expect(copy.kind).toBe('grant');
  });

  it.each(['', 'CREATE USER `a`@`%`', 'GRANT SELECT ON *.*', 'GRANT SELECT ON *.* TO'])('refuses %j', (row) => {
    expect(() => copyGrantRow(row, TO)).toThrow(/cannot copy/);
  });
});

describe('the statement lexer', () => {
  it('keeps quoted text whole and tracks parentheses', () => {
    const tokens = tokenize("GRANT SELECT (`a)`) ON x TO 'u''s'@'%'");
    expect(tokens.map((t) => t.text)).toEqual(['GRANT', 'SELECT', '(', '`a)`', ')', 'ON', 'x', 'TO', "'u''s'", '@', "'%'"]);
    expect(tokens[3]!.depth).toBe(1);
    expect(tokens[7]!.depth).toBe(0);
  });

  it('unquotes identifiers and strings as the server reads them', () => {
    expect(unquote('`a``b`')).toBe('a`b');
    expect(unquote("'it''s'")).toBe("it's");
    expect(unquote("'a\\'b\\\\c'")).toBe("a'b\\c");
    expect(unquote('bare')).toBe('bare');
  });
});
