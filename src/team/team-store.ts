import { ConflictError, NotFoundError } from '../errors.js';
import { SqlState, StorageQueryError } from '../storage/errors.js';
import type { Storage } from '../storage/storage.js';
import type { CreateMemberInput, UpdateMemberInput } from './member-input.js';
import type { Principal } from './principal.js';
import { hashMemberToken, issueMemberToken, looksLikeMemberToken } from './tokens.js';

/**
 * Team members over the storage interface (SQL functions team_* in
 * 20261201000400_team_assignment_audit.sql). Tokens are hashed here, before anything
 * leaves the process: the database only ever sees hashes.
 */
export type AssignmentStrategy = 'round_robin' | 'least_open' | 'none';

export interface TeamMember {
  id: string;
  name: string;
  email: string;
  role: 'admin' | 'agent';
  phone: string | null;
  slackUserId: string | null;
  telegramChatId: string | null;
  capacity: number | null;
  workingHours: Record<string, unknown> | null;
  active: boolean;
  tokenHint: string;
  tokenRotatedAt: string;
  version: number;
  openLeads: number;
  createdAt: string;
  updatedAt: string;
}

async function callTeam<T>(storage: Storage, fn: string, args: Record<string, unknown>, what: string) {
  try {
    return await storage.call<T>(fn, args);
  } catch (error) {
    if (error instanceof StorageQueryError) {
      if (error.code === SqlState.notFound) throw new NotFoundError(what);
      if (error.code === SqlState.versionConflict) throw new ConflictError(error.message);
    }
    throw error;
  }
}

/** Creates a member; the returned token is the only time it is ever available. */
export async function createMember(
  storage: Storage,
  input: CreateMemberInput,
): Promise<{ member: TeamMember; token: string }> {
  const issued = issueMemberToken();
  const member = await callTeam<TeamMember>(
    storage,
    'team_create_member',
    { p_member: input, p_token_hash: issued.hash, p_token_hint: issued.hint },
    'Team member',
  );
  return { member, token: issued.token };
}

export function listMembers(storage: Storage): Promise<TeamMember[]> {
  return callTeam(storage, 'team_list_members', {}, 'Team');
}

export function updateMember(storage: Storage, id: string, patch: UpdateMemberInput): Promise<TeamMember> {
  return callTeam(storage, 'team_update_member', { p_id: id, p_patch: patch }, `Team member ${id}`);
}

export async function rotateMemberToken(
  storage: Storage,
  id: string,
): Promise<{ member: TeamMember; token: string }> {
  const issued = issueMemberToken();
  const member = await callTeam<TeamMember>(
    storage,
    'team_rotate_token',
    { p_id: id, p_token_hash: issued.hash, p_token_hint: issued.hint },
    `Team member ${id}`,
  );
  return { member, token: issued.token };
}

/** The member a token belongs to, or null (also for anything not shaped like a member token). */
export async function authenticateMember(storage: Storage, token: string): Promise<Principal | null> {
  if (!looksLikeMemberToken(token)) return null;
  const found = await storage.call<{ id: string; name: string; role: 'admin' | 'agent' } | null>(
    'team_authenticate',
    { p_token_hash: hashMemberToken(token) },
  );
  return found ? { id: found.id, name: found.name, role: found.role } : null;
}

/**
 * Assigns waiting leads, longest-waiting first, while someone is available. Called
 * after changes that can free a slot and by the worker's sweep (shifts start by the
 * clock). `now` drives the working-hours check (tests move it).
 */
export function assignWaitingLeads(
  storage: Storage,
  strategy: AssignmentStrategy,
  now?: Date,
): Promise<{ assigned: number; ids: string[] }> {
  return storage.call('assign_waiting_leads', { p_strategy: strategy, p_now: now?.toISOString() });
}
