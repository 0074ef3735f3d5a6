import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import { ConflictError, IdempotencyKeyReusedError, NotFoundError, UnprocessableError } from '../errors.js';
import { StorageContentionError } from '../storage/contention-retry.js';
import { StorageUnavailableError } from '../storage/errors.js';

/**
 * The one HTTP error handler. Every error leaves as JSON `{ error, message, fields? }`:
 * validation names each bad field, domain errors map by class, 5xx hide their
 * internal text (it is logged with the request instead).
 */
export interface ErrorBody {
  error: string;
  message: string;
  fields?: { field: string; message: string }[];
}

/** Seconds a client should wait before retrying when the database is down. */
export const UNAVAILABLE_RETRY_AFTER_SECONDS = 5;
/** Contention clears in milliseconds; a second is plenty. */
export const CONTENTION_RETRY_AFTER_SECONDS = 1;

export class HttpError extends Error {
  constructor(
    readonly statusCode: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'HttpError';
  }
}

/** `transcript/3/text` -> `transcript[3].text`: array items by index, as a reader writes them. */
function fieldName(instancePath: string, validationContext: string | undefined): string {
  const path = instancePath
    .replace(/^\//, '')
    .split('/')
    .filter(Boolean)
    .map((segment, index) => (/^\d+$/.test(segment) ? `[${segment}]` : index === 0 ? segment : `.${segment}`))
    .join('');
  if (
    validationContext === 'headers' ||
    validationContext === 'querystring' ||
    validationContext === 'params'
  ) {
    return path || validationContext;
  }
  return path || 'body';
}

const FASTIFY_CODES: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload_too_large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported_media_type',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'empty_body',
  FST_ERR_CTP_INVALID_JSON_BODY: 'invalid_json',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid_content_length',
};

export function handleError(error: FastifyError, request: FastifyRequest, reply: FastifyReply) {
  if (hasZodFastifySchemaValidationErrors(error)) {
    const fields = error.validation.flatMap((issue) => {
      const field = fieldName(issue.instancePath, error.validationContext);
      const message = issue.message ?? 'is invalid';
      // An unknown key is reported on the object; name the key itself instead.
      const unknownKeys =
        issue.keyword === 'unrecognized_keys' ? (issue.params as { keys?: string[] }).keys : undefined;
      if (unknownKeys?.length) {
        return unknownKeys.map((key) => ({ field: field === 'body' ? key : `${field}.${key}`, message }));
      }
      return [{ field, message }];
    });
    const body: ErrorBody = {
      error: 'validation_failed',
      message: `Invalid request: ${fields.map((f) => `${f.field} ${f.message}`).join('; ')}`,
      fields,
    };
    return reply.code(400).send(body);
  }
  if (error instanceof StorageContentionError) {
    // Deadlock or serialization failure after the storage layer's retries: the same
    // answer as an unavailable database (nothing was written; retry shortly), never a 500.
    request.log.warn(
      { err: error, fn: error.fn, sqlState: error.code },
      'Database contention: retries exhausted',
    );
    return reply.code(503).header('retry-after', String(CONTENTION_RETRY_AFTER_SECONDS)).send({
      error: 'service_unavailable',
      message: 'The service is busy; please retry shortly.',
    });
  }
  if (error instanceof StorageUnavailableError) {
    request.log.error({ err: error }, 'Database unavailable');
    return reply.code(503).header('retry-after', String(UNAVAILABLE_RETRY_AFTER_SECONDS)).send({
      error: 'service_unavailable',
      message: 'The service is temporarily unavailable; please retry shortly.',
    });
  }
  if (error instanceof IdempotencyKeyReusedError) {
    return reply.code(422).send({ error: 'idempotency_key_reused', message: error.message });
  }
  if (error instanceof NotFoundError) {
    return reply.code(404).send({ error: 'not_found', message: error.message });
  }
  if (error instanceof UnprocessableError) {
    return reply.code(422).send({ error: 'unprocessable', message: error.message });
  }
  if (error instanceof ConflictError) {
    return reply.code(409).send({ error: 'conflict', message: error.message });
  }
  if (error instanceof HttpError) {
    return reply.code(error.statusCode).send({ error: error.code, message: error.message });
  }
  const status = error.statusCode ?? 500;
  if (status === 429) {
    return reply.code(429).send({ error: 'rate_limited', message: error.message });
  }
  if (status >= 400 && status < 500) {
    // A JSON body that tries prototype pollution is refused by Fastify's parser.
    const code =
      FASTIFY_CODES[error.code] ??
      (error.code === 'FST_ERR_CTP_INVALID_JSON_BODY' ? 'invalid_json' : 'bad_request');
    return reply.code(status).send({ error: code, message: error.message });
  }
  request.log.error({ err: error }, 'Unhandled error');
  return reply.code(500).send({ error: 'internal_error', message: 'Internal server error' });
}
