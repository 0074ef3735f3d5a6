import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import type { Storage } from '../../storage/storage.js';
import { createMemberBody, updateMemberBody } from '../../team/member-input.js';
import {
  assignWaitingLeads,
  createMember,
  listMembers,
  rotateMemberToken,
  updateMember,
} from '../../team/team-store.js';
import { principalOf } from '../admin-auth.js';
import { perMinute } from '../rate-limit.js';

/**
 * The team: members, their roles and their access tokens. Owner and admins only
 * (adminOnly: agents get 403). A token is in the answer of create and rotate, and
 * nowhere else, ever: only its hash is stored.
 */
const memberParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });

export async function adminTeamRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const limit = perMinute(config.http.rateLimits.adminPerMinute);
  const strategy = config.team.assignmentStrategy;

  /** A member back, with more capacity or new hours may take waiting leads at once. */
  const drainQueue = (log: { warn(obj: object, msg: string): void }) =>
    assignWaitingLeads(storage, strategy).catch((error: unknown) =>
      log.warn({ err: error }, 'Waiting leads not assigned now; the next sweep will'),
    );

  // For everyone signed in (agents too): who they are, and whom a lead can go to.
  typed.get('/api/admin/me', { config: limit, schema: { summary: 'The signed-in principal' } }, (request) =>
    principalOf(request),
  );
  typed.get(
    '/api/admin/assignees',
    { config: limit, schema: { summary: 'Team members a lead can be assigned to (names only)' } },
    async () => ({
      items: (await listMembers(storage)).map(({ id, name, active }) => ({ id, name, active })),
    }),
  );

  typed.get(
    '/api/admin/team',
    { config: { ...limit, adminOnly: true }, schema: { summary: 'Team members' } },
    async () => ({ items: await listMembers(storage) }),
  );

  typed.post(
    '/api/admin/team',
    {
      config: { ...limit, adminOnly: true, audit: { action: 'team.create', resource: 'team_member' } },
      schema: { summary: 'Add a team member (answers their access token, once)', body: createMemberBody },
    },
    async (request, reply) => {
      const created = await createMember(storage, request.body);
      request.log.info({ memberId: created.member.id, role: created.member.role }, 'Team member added');
      await drainQueue(request.log);
      return reply.code(201).header('cache-control', 'no-store').send(created);
    },
  );

  typed.patch(
    '/api/admin/team/:id',
    {
      config: { ...limit, adminOnly: true, audit: { action: 'team.update', resource: 'team_member' } },
      schema: {
        summary: 'Change a team member (active: false marks them away)',
        params: memberParams,
        body: updateMemberBody,
      },
    },
    async (request) => {
      const member = await updateMember(storage, request.params.id, request.body);
      await drainQueue(request.log);
      return member;
    },
  );

  typed.post(
    '/api/admin/team/:id/token',
    {
      config: {
        ...limit,
        adminOnly: true,
        audit: { action: 'team.token_rotate', resource: 'team_member' },
      },
      schema: { summary: 'Issue a new access token (the old one stops working)', params: memberParams },
    },
    async (request, reply) => {
      const rotated = await rotateMemberToken(storage, request.params.id);
      request.log.info({ memberId: rotated.member.id }, 'Team member token rotated');
      return reply.header('cache-control', 'no-store').send(rotated);
    },
  );
}
