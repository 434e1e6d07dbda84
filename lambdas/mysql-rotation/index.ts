/**
 * The MySQL / MariaDB / Aurora MySQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY,
 * built once per container. Only the MySQL engine is imported, so this
 * bundle never references the PostgreSQL engine or pg.
 */
import { mysqlEngine } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: mysqlEngine });
