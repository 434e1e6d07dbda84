/**
 * The PostgreSQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY, built once per
 * container. The strategy object is passed directly (not the name 'postgres') so this bundle never
 * references the MySQL engine or mysql2.
 */
import { postgresStrategy } from '../../shared/engines/postgres';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: postgresStrategy });
