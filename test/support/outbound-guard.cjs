/* global require, process */
/* eslint-disable @typescript-eslint/no-require-imports -- a plain CommonJS preload: NODE_OPTIONS=--require loads it before any TypeScript tooling */
/**
 * Preloaded (NODE_OPTIONS=--require) into every Node process a stand-in test starts: npm, tsx,
 * cdklocal, the CDK CLI. Records each outbound TCP connection to OUTBOUND_GUARD_LOG (one JSON line:
 * pid, host, port) and cuts every one that does not go to a loopback address, so the test can assert
 * where a command went, and the command stays offline whatever it tries. Local IPC (a `path`) passes.
 */
'use strict';
const fs = require('node:fs');
const net = require('node:net');

const LOG = process.env.OUTBOUND_GUARD_LOG;
const LOOPBACK = new Set(['127.0.0.1', '::1', 'localhost']);

function target(args) {
  const first = args[0];
  if (Array.isArray(first)) return target(first); // net internals pass [options, callback]
  if (first !== null && typeof first === 'object') return { host: first.host, port: first.port, path: first.path };
  if (typeof first === 'string' && !/^\d+$/.test(first)) return { path: first };
  return { port: first, host: typeof args[1] === 'string' ? args[1] : undefined };
}

if (LOG) {
  const connect = net.Socket.prototype.connect;
  net.Socket.prototype.connect = function guardedConnect(...args) {
    const { host, port, path } = target(args);
    if (path !== undefined) return connect.apply(this, args);
    const name = host === undefined ? 'localhost' : String(host);
    const allowed = LOOPBACK.has(name) || name.startsWith('127.');
    fs.appendFileSync(LOG, `${JSON.stringify({ pid: process.pid, host: name, port: Number(port), allowed })}\n`);
    if (!allowed) {
      const err = Object.assign(new Error(`outbound-guard: connection to ${name}:${port} blocked`), { code: 'ECONNREFUSED' });
      process.nextTick(() => this.destroy(err));
      return this;
    }
    return connect.apply(this, args);
  };
}
