import type { FastifyInstance } from 'fastify';
import { TEST_ADMIN_KEY } from '../helpers/app.js';

/** Team members for tests, added through the API the way an admin does. */
export interface AddedMember {
  id: string;
  name: string;
  token: string;
  /** Headers that sign in as this member. */
  auth: { authorization: string };
}

let counter = 0;

export async function addMember(
  app: FastifyInstance,
  body: Record<string, unknown> = {},
  key = TEST_ADMIN_KEY,
): Promise<AddedMember> {
  counter += 1;
  const response = await app.inject({
    method: 'POST',
    url: '/api/admin/team',
    headers: { authorization: `Bearer ${key}` },
    payload: {
      name: `Agent ${counter}`,
      email: `agent${counter}.${Date.now()}@sales.test`,
      role: 'agent',
      ...body,
    },
  });
  if (response.statusCode !== 201) {
    throw new Error(`adding a member failed: ${response.statusCode} ${response.body}`);
  }
  const { member, token } = response.json();
  return { id: member.id, name: member.name, token, auth: { authorization: `Bearer ${token}` } };
}
