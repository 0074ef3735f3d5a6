import type { FastifyInstance } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { adminConversationStore, announceMessage } from '../../conversations/conversation-store.js';
import { messageText } from '../../conversations/message-input.js';
import type { Storage } from '../../storage/storage.js';
import { actorName } from '../../team/principal.js';
import { principalOf } from '../admin-auth.js';
import { chatKillSwitch } from '../chat-guards.js';
import { perMinute } from '../rate-limit.js';

/**
 * The agent's side of a conversation, inside the admin scope (key or member token,
 * audited): read the lead's messages in keyset pages, reply as the signed-in member
 * (the first reply is the first contact), mark visitor messages read. CHAT_DISABLED
 * answers 503 here too. Shapes: docs/conversations.md.
 */
const leadParams = z.object({ id: z.uuid({ error: 'must be a UUID' }) });
const messageId = z.string().regex(/^\d{1,18}$/, { error: 'must be a message id' });

const pageQuery = z.object({
  after: messageId.optional(),
  before: messageId.optional(),
  limit: z.coerce.number().int().min(1).max(200).default(50),
});

const readBody = z.strictObject({
  upTo: z.union([messageId, z.number().int().min(0).max(Number.MAX_SAFE_INTEGER)], {
    error: 'must be a message id',
  }),
});

export async function adminMessageRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const store = adminConversationStore(storage);
  const limit = perMinute(config.http.rateLimits.adminPerMinute);
  app.addHook('onRequest', chatKillSwitch(config));

  typed.get(
    '/api/admin/leads/:id/messages',
    {
      config: limit,
      schema: {
        summary:
          "A lead's conversation: the latest page, ?before=<olderCursor> for older, ?after=<cursor> for newer",
        params: leadParams,
        querystring: pageQuery,
      },
    },
    async (request) => {
      const { after, before, limit: pageSize } = request.query;
      return store.list(request.params.id, { after, before, limit: pageSize });
    },
  );

  typed.post(
    '/api/admin/leads/:id/messages',
    {
      config: { ...limit, audit: { action: 'message.reply', resource: 'lead' } },
      schema: {
        summary: 'Reply to the visitor as the signed-in member (the first reply is the first contact)',
        params: leadParams,
        body: z.strictObject({ text: messageText }),
      },
    },
    async (request, reply) => {
      const principal = principalOf(request);
      const result = await store.reply(request.params.id, request.body.text, {
        memberId: principal.id,
        name: actorName(principal),
      });
      announceMessage(
        storage,
        { conversationId: request.params.id, id: result.message.id, role: 'agent' },
        (error) => request.log.warn({ err: error }, 'Could not announce an agent reply; polling finds it'),
      );
      request.log.info(
        {
          conversationId: request.params.id,
          messageId: result.message.id,
          firstContact: result.firstContact,
        },
        'Agent reply stored',
      );
      return reply.code(201).send(result);
    },
  );

  typed.post(
    '/api/admin/leads/:id/messages/read',
    {
      config: { ...limit, audit: { action: 'message.read', resource: 'lead' } },
      schema: {
        summary: "Mark the lead's visitor messages read up to a message id",
        params: leadParams,
        body: readBody,
      },
    },
    async (request) =>
      store.markRead(request.params.id, String(request.body.upTo), actorName(principalOf(request))),
  );
}
