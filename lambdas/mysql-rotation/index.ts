/**
 * The MySQL / MariaDB / Aurora MySQL rotation Lambda: one engine, the strategy from ROTATION_STRATEGY,
 * built once per container. Only the MySQL engine is imported, so this
 * bundle never references the PostgreSQL engine or pg.
 *
 * mysql2 is loaded here, during the function's init, and not at its first login as `shared/` does for
 * applications: Lambda runs init before the first invocation, so the first rotation does not carry
 * the driver's load inside its setSecret (BENCHMARKS.md, section 2).
 */
import { mysqlEngine } from '../../shared/engines/mysql';
import { loadMysqlDriver } from '../../shared/engines/mysql-connector';
import { createRotationHandler } from '../../shared/rotation/create-rotation-handler';

export const handler = createRotationHandler({ engine: mysqlEngine });

loadMysqlDriver();
