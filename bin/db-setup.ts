#!/usr/bin/env node
/** `npm run db:setup`: start the local servers if needed and make PostgreSQL check passwords. */
import { setupDatabases } from '../local/db-setup';
import { describeError } from '../local/operator/cli-io';

setupDatabases().catch((err: unknown) => {
  // Driver messages can quote SQL (a probe's CREATE USER); describeError keeps only setup and toolkit messages.
  console.error(`db:setup failed: ${describeError(err)}`);
  process.exit(1);
});
