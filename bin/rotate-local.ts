#!/usr/bin/env node
/** `npm run rotate:local`: rotate real local database users end to end and verify from outside. */
import { processIo } from '../local/operator/cli-io';
import { runRotateLocalCli } from '../local/rotate-local/rotate-local';

void runRotateLocalCli(process.argv.slice(2), processIo).then((code) => {
  process.exitCode = code;
});
