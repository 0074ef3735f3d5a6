import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Storage } from '../storage/storage.js';
import { canManageTeam, OWNER, type Principal } from '../team/principal.js';
import { authenticateMember } from '../team/team-store.js';

/**
 * Admin authentication: the owner's key (ADMIN_API_KEY) or a team member's own token
 * (`lrm_...`, issued by the team API), sent as `Authorization: Bearer <key>` or
 * `x-api-key: <key>`. A member token is hashed (SHA-256) and looked up by its hash,
 * so the token never reaches the database or a log; the owner key is compared in
 * constant time as below. The request's principal (owner or member) is the actor of
 * every change it makes.
 *
 * The comparison hashes both sides to SHA-256 and compares the digests with
 * crypto.timingSafeEqual: equal lengths whatever the input, and no early exit on the
 * first differing byte, so response times say nothing about how much of a guess was
 * right (a plain `===` would).
 *
 * EventSource cannot send headers, so the stream also accepts `?token=`: a token the
 * dashboard gets from POST /api/admin/stream-token (with the key in a header) that is
 * an HMAC of its expiry, valid for STREAM_TOKEN_TTL_MS. A token in a URL can end up in
 * proxy logs and browser history; a short-lived token limits that to a minute of
 * stream access, where the key itself would grant everything until rotated.
 */
export const STREAM_TOKEN_TTL_MS = 60_000;

function digest(value: string): Buffer {
  return createHash('sha256').update(value, 'utf8').digest();
}

/** Constant-time equality of two secrets of any length. */
export function secretsEqual(provided: string, expected: string): boolean {
  return timingSafeEqual(digest(provided), digest(expected));
}

/** The key a request presents in its headers, if any. */
export function presentedKey(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization === 'string') {
    const match = /^Bearer\s+(.+)$/i.exec(authorization.trim());
    if (match?.[1]) return match[1].trim();
  }
  const apiKey = request.headers['x-api-key'];
  if (typeof apiKey === 'string' && apiKey.length > 0) return apiKey.trim();
  return undefined;
}

function sign(key: string, expiresAt: number): string {
  return createHmac('sha256', key).update(`leadrelay-stream:${expiresAt}`).digest('base64url');
}

export function createStreamToken(key: string, now = Date.now()): { token: string; expiresAt: string } {
  const expiresAt = now + STREAM_TOKEN_TTL_MS;
  return { token: `${expiresAt}.${sign(key, expiresAt)}`, expiresAt: new Date(expiresAt).toISOString() };
}

export function verifyStreamToken(key: string, token: string, now = Date.now()): boolean {
  const match = /^(\d{13,15})\.([\w-]{43})$/.exec(token);
  if (!match) return false;
  const expiresAt = Number(match[1]);
  if (!Number.isSafeInteger(expiresAt) || expiresAt < now) return false;
  return secretsEqual(match[2]!, sign(key, expiresAt));
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The route also accepts a stream token in `?token=` (EventSource cannot send headers). */
    adminQueryToken?: boolean;
    /** Only the owner and admins may call the route (team management, audit log). */
    adminOnly?: boolean;
  }
  interface FastifyRequest {
    /** Who is calling an admin route; set by the admin auth hook. */
    principal: Principal | null;
  }
}

/** The signed-in principal of an admin route (the auth hook has already run). */
export function principalOf(request: FastifyRequest): Principal {
  if (!request.principal) throw new Error('admin route reached without a principal');
  return request.principal;
}

/**
 * A preValidation hook that lets a request through only with the owner key, a member
 * token (or a stream token where allowed), and sets request.principal. Routes marked
 * adminOnly answer 403 to agents.
 */
export function requireAdminKey(key: string, storage?: Storage) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const presented = presentedKey(request);
    if (presented !== undefined && secretsEqual(presented, key)) {
      request.principal = OWNER;
    } else if (presented !== undefined && storage) {
      request.principal = await authenticateMember(storage, presented);
    } else if (presented === undefined && request.routeOptions.config.adminQueryToken) {
      const token = (request.query as Record<string, unknown> | undefined)?.token;
      // A stream token only opens the read-only stream; who asked for it is not kept.
      if (typeof token === 'string' && verifyStreamToken(key, token)) request.principal = OWNER;
    }
    if (request.principal) {
      if (request.routeOptions.config.adminOnly && !canManageTeam(request.principal)) {
        request.log.warn({ role: request.principal.role }, 'Admin request refused: admins only');
        return reply
          .code(403)
          .send({ error: 'forbidden', message: 'Only admins can do this; your token is an agent token' });
      }
      return;
    }
    request.log.warn({ presented: presented !== undefined }, 'Admin request refused: missing or wrong key');
    return reply
      .code(401)
      .header('www-authenticate', 'Bearer realm="leadrelay-admin"')
      .send({ error: 'unauthorized', message: 'A valid admin API key is required' });
  };
}
