/**
 * The HTTP side: AWS JSON 1.1 (`POST /`, `X-Amz-Target: secretsmanager.<Action>`), errors as
 * `{"__type", "message"}`, an `x-amzn-RequestId` on every answer. A SigV4 Authorization header must be
 * present, as AWS requires; the signature itself is not checked. Bodies are capped at 1 MiB.
 */
import { randomUUID } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as delay } from 'node:timers/promises';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { OperationTable } from './context';
import { isJsonObject, type JsonObject } from './input';
import { NOT_EMULATED } from './operation-table';
import type { EndpointRequestRecord } from './types';
import { isWireError, serialization, WireError } from './wire-errors';

export const MAX_BODY_BYTES = 1024 * 1024;
/** Past this much discarded input the connection is cut rather than drained. */
const MAX_DRAIN_BYTES = 16 * MAX_BODY_BYTES;
const TARGET_PREFIX = 'secretsmanager.';
const CONTENT_TYPE = 'application/x-amz-json-1.1';

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let tooLarge = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        // Keep reading (and discarding) so the client gets the 413 instead of a reset connection.
        tooLarge = true;
        chunks.length = 0;
        if (size > MAX_DRAIN_BYTES) req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => (tooLarge ? reject(new BodyTooLarge()) : resolve(Buffer.concat(chunks))));
    req.on('error', reject);
    req.on('close', () => {
      if (!req.complete) reject(new BodyTooLarge());
    });
  });
}

function send(res: ServerResponse, status: number, body: JsonObject, requestId: string): void {
  const payload = Buffer.from(JSON.stringify(body), 'utf8');
  res.writeHead(status, {
    'Content-Type': CONTENT_TYPE,
    'Content-Length': payload.length,
    'x-amzn-RequestId': requestId,
  });
  res.end(payload);
}

function checkAuthorization(req: IncomingMessage): void {
  const header = req.headers.authorization;
  if (header === undefined || header === '') {
    throw new WireError('MissingAuthenticationTokenException', 'Missing Authentication Token');
  }
  if (
    !header.startsWith('AWS4-HMAC-SHA256 ') ||
    !/Credential=/.test(header) ||
    !/SignedHeaders=/.test(header) ||
    !/Signature=/.test(header)
  ) {
    throw new WireError(
      'IncompleteSignatureException',
      "Authorization header requires 'Credential', 'SignedHeaders' and 'Signature' parameters (AWS4-HMAC-SHA256).",
    );
  }
  if (req.headers['x-amz-date'] === undefined && req.headers.date === undefined) {
    throw new WireError(
      'IncompleteSignatureException',
      "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.",
    );
  }
}

function resolveAction(req: IncomingMessage, operations: OperationTable): string {
  const target = req.headers['x-amz-target'];
  const action = typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : undefined;
  if (action !== undefined && Object.prototype.hasOwnProperty.call(operations, action)) return action;
  if (action !== undefined && NOT_EMULATED.includes(action)) {
    throw new WireError('UnknownOperationException', `${action} is not emulated by the local Secrets Manager endpoint.`);
  }
  throw new WireError('UnknownOperationException', 'The requested operation is not recognized by Secrets Manager.');
}

function parseInput(body: Buffer): JsonObject {
  if (body.length === 0) return {};
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch {
    throw serialization('The request body is not valid JSON.');
  }
  if (!isJsonObject(parsed)) throw serialization('The request body must be a JSON object.');
  return parsed;
}

/** Benchmark options (see `LocalSecretsManagerOptions.requestLatencyMs` and `onRequest`). */
export interface EndpointServerOptions {
  readonly latencyMs?: number;
  readonly onRequest?: (record: EndpointRequestRecord) => void;
}

function actionOf(req: IncomingMessage): string {
  const target = req.headers['x-amz-target'];
  return typeof target === 'string' && target.startsWith(TARGET_PREFIX) ? target.slice(TARGET_PREFIX.length) : 'unknown';
}

export function createEndpointServer(operations: OperationTable, log: (line: string) => void, options: EndpointServerOptions = {}): Server {
  const latencyMs = options.latencyMs ?? 0;
  if (!Number.isFinite(latencyMs) || latencyMs < 0) throw new RangeError('requestLatencyMs must be a number >= 0');
  const onRequest = options.onRequest;
  return createServer((req, res) => {
    const requestId = randomUUID();
    if (onRequest !== undefined) {
      const arrived = performance.now();
      res.once('finish', () => onRequest({ action: actionOf(req), status: res.statusCode, durationMs: performance.now() - arrived }));
    }
    void (async () => {
      try {
        if (latencyMs > 0) await delay(latencyMs);
        if (req.method !== 'POST' || (req.url !== '/' && !req.url?.startsWith('/?'))) {
          req.resume();
          throw new WireError('UnknownOperationException', 'Only POST / is served (AWS JSON 1.1).', 404);
        }
        const body = await readBody(req);
        checkAuthorization(req);
        const action = resolveAction(req, operations);
        const output = await operations[action]!(parseInput(body));
        send(res, 200, output, requestId);
      } catch (err) {
        if (res.headersSent || res.destroyed) return;
        if (err instanceof BodyTooLarge) {
          send(
            res,
            413,
            { __type: 'RequestEntityTooLargeException', message: `Request bodies are limited to ${MAX_BODY_BYTES} bytes.` },
            requestId,
          );
        } else if (isWireError(err)) {
          send(res, err.status, { __type: err.type, message: err.message }, requestId);
        } else {
          const name = err instanceof Error ? err.name : typeof err;
          log(`[local-secrets-manager] internal error ${name} on request ${requestId}`);
          send(res, 500, { __type: 'InternalServiceError', message: 'The local endpoint failed on this request.' }, requestId);
        }
      }
    })();
  });
}
