/**
 * Who is making an admin request: the owner (ADMIN_API_KEY) or a team member signed in
 * with their own token. The actor of every change is taken from here, never from the
 * request body.
 */
export type Role = 'owner' | 'admin' | 'agent';

export interface Principal {
  /** The member's id; null for the owner. */
  id: string | null;
  name: string;
  role: Role;
}

export const OWNER: Principal = { id: null, name: 'owner', role: 'owner' };

/** Owners and admins manage the team and read the audit log; agents work leads. */
export function canManageTeam(principal: Principal): boolean {
  return principal.role === 'owner' || principal.role === 'admin';
}

/** The text stored as a timeline entry's actor. */
export function actorName(principal: Principal): string {
  return principal.name;
}
