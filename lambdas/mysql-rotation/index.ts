/**
 * The MySQL / MariaDB / Aurora MySQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY,
 * built once per container. The strategy object is passed directly (not the name 'mysql') so this
 * bundle never references the PostgreSQL engine or pg.
 */
import { mysqlStrategy } from '../../shared/engines/mysql';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: mysqlStrategy });
