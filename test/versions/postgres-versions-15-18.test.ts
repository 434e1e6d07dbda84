/**
 * PostgreSQL 15-18, live (see postgres-version-matrix.ts): 15, then the majors with the ADMIN OPTION rule and,
 * on 18, md5's deprecation warning.
 */
import { versionMatrix } from '../support/postgres-version-matrix';

versionMatrix([15, 16, 17, 18]);
