/**
 * The PostgreSQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY, built once per
 * container. Only the PostgreSQL engine is imported, so this bundle never
 * references the MySQL engine or mysql2.
 */
import { postgresEngine } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: postgresEngine });
