import { z } from 'zod';

/** The body of every error response (see errors.ts), for route schemas and the API docs. */
export const errorBody = z.object({
  error: z.string(),
  message: z.string(),
  fields: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});

/** `{ 400: errorBody, 401: errorBody, … }` for the given statuses. */
export function errorResponses(...statuses: number[]): Record<number, typeof errorBody> {
  return Object.fromEntries(statuses.map((status) => [status, errorBody]));
}
