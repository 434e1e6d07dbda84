/**
 * PostgreSQL 12-18, live (see postgres-version-matrix.ts). Split in two files so jest's two workers
 * share the seven servers; this one runs 12-14, before PostgreSQL 16's ADMIN OPTION rule.
 */
import { versionMatrix } from '../support/postgres-version-matrix';

versionMatrix([12, 13, 14]);
