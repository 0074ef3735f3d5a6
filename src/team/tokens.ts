import { createHash, randomBytes } from 'node:crypto';

/**
 * Team members' access tokens: 32 random bytes behind a recognisable prefix. Only the
 * SHA-256 of a token is stored; the token is shown once, when created or rotated. A
 * fast hash is enough here (unlike passwords): the token has 256 bits of entropy, so
 * there is nothing to brute-force from the hash.
 */
export const MEMBER_TOKEN_PREFIX = 'lrm_';
const MEMBER_TOKEN = /^lrm_[\w-]{43}$/;

export interface IssuedToken {
  token: string;
  hash: string;
  /** The first characters, stored so a member can tell which token is which. */
  hint: string;
}

export function hashMemberToken(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function issueMemberToken(): IssuedToken {
  const token = `${MEMBER_TOKEN_PREFIX}${randomBytes(32).toString('base64url')}`;
  return { token, hash: hashMemberToken(token), hint: token.slice(0, 8) };
}

export function looksLikeMemberToken(value: string): boolean {
  return MEMBER_TOKEN.test(value);
}
