#!/usr/bin/env node
/** `npm run rotation:status -- --secret-id X`: labels, configuration and whether a rotation is stuck. */
import { processIo } from '../local/operator/cli-io';
import { runRotationStatusCli } from '../local/operator/operator-cli';

void runRotationStatusCli(process.argv.slice(2), processIo).then((code) => {
  process.exitCode = code;
});
