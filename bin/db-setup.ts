#!/usr/bin/env node
/** `npm run db:setup`: start the local servers if needed and make PostgreSQL check passwords. */
import { setupDatabases } from '../local/db-setup';

setupDatabases().catch((err: unknown) => {
  console.error(`db:setup failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
