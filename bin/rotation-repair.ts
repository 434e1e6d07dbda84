#!/usr/bin/env node
/** `npm run rotation:repair -- --secret-id X [--yes]`: shows, then (with --yes) fixes, a stuck rotation. */
import { processIo } from '../local/operator/cli-io';
import { runRotationRepairCli } from '../local/operator/operator-cli';

void runRotationRepairCli(process.argv.slice(2), processIo).then((code) => {
  process.exitCode = code;
});
