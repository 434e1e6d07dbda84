#!/usr/bin/env node
/** `npm run db:setup`: start the local servers if needed and make PostgreSQL check passwords. */
import { setupDatabases } from '../local/db-setup';
import { ConfigError } from '../shared/errors';
import { parseCommandLine } from '../operator/cli-args';
import { describeError, EXIT_FAILED, EXIT_OK, EXIT_USAGE, progressFor, type CliIo } from '../operator/cli-io';
import { runMain } from '../operator/cli-main';
import type { EngineFamily } from '../shared/database-secret';

export const DB_SETUP_USAGE = `Usage: npm run db:setup [-- --engine postgres|mysql]

Starts the local PostgreSQL and MariaDB when they are installed here but stopped (as root), makes
PostgreSQL check passwords on loopback (a managed block at the top of pg_hba.conf, as root), then proves
each server refuses a wrong password. Without root, or for remote servers, it only verifies.
Servers: PGHOST/PGPORT/PGUSER/PGPASSWORD and MYSQL_HOST/MYSQL_PORT/MYSQL_USER/MYSQL_PASSWORD.
Every line goes to stderr.`;

const FLAGS = { engine: { type: 'string' } } as const;

/** The command, in-process: parses, then sets up; lines to stderr. */
export async function runDbSetupCli(argv: readonly string[], io: CliIo): Promise<number> {
  let engines: EngineFamily[] | undefined;
  try {
    const line = parseCommandLine(argv, FLAGS);
    if (line.help) {
      io.stdout(DB_SETUP_USAGE);
      return EXIT_OK;
    }
    const engine = line.flags.engine;
    if (engine !== undefined && engine !== 'postgres' && engine !== 'mysql') throw new ConfigError('--engine must be postgres or mysql');
    if (engine !== undefined) engines = [engine];
  } catch (err) {
    io.stderr(`db:setup: ${err instanceof Error ? err.message : String(err)}\n\n${DB_SETUP_USAGE}`);
    return EXIT_USAGE;
  }
  try {
    await setupDatabases({ env: io.env, log: io.stderr, progress: progressFor(io, 'db:setup'), ...(engines ? { engines } : {}) });
    return EXIT_OK;
  } catch (err) {
    // Driver messages can quote SQL (a probe's CREATE USER); describeError keeps only setup and toolkit messages.
    io.stderr(`db:setup failed: ${describeError(err)}`);
    return EXIT_FAILED;
  }
}

if (require.main === module) runMain(runDbSetupCli);
