/**
 * The PostgreSQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY, built once per
 * container. Only the PostgreSQL engine is imported, so this bundle never
 * references the MySQL engine or mysql2.
 *
 * pg is loaded here, during the function's init, and not at its first login as `shared/` does for
 * applications: Lambda runs init before the first invocation, so the first rotation does not carry
 * the driver's load inside its setSecret (BENCHMARKS.md, section 2).
 */
import { postgresEngine } from '../../shared/engines/postgres';
import { loadPostgresDriver } from '../../shared/engines/postgres-connector';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: postgresEngine });

loadPostgresDriver();
