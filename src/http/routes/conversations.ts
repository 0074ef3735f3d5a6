import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { FeedMessage, LiveFeed } from '../../admin/live-feed.js';
import type { Config } from '../../config.js';
import {
  announceMessage,
  ConversationTokenError,
  latestMessageId,
  type VisitorMessage,
  visitorStore,
} from '../../conversations/conversation-store.js';
import {
  createConversationStreamToken,
  verifyConversationStreamToken,
} from '../../conversations/conversation-tokens.js';
import { messageText } from '../../conversations/message-input.js';
import { NotFoundError } from '../../errors.js';
import type { Storage } from '../../storage/storage.js';
import { optionalText } from '../../validation/text-fields.js';
import { chatKillSwitch, chatLimits } from '../chat-guards.js';
import { errorResponses } from '../error-schemas.js';

/**
 * The visitor's side of a conversation (the widget, cross-origin under the FRONTEND_URL
 * CORS rules like intake): send a message, read the conversation, follow agent replies
 * live. Every route takes `Authorization: Bearer <conversationToken>` (from the
 * capture's 201); the stream also takes a one-minute stream token in `?token=`, since
 * EventSource cannot send headers (the logger redacts `token=` in URLs). A wrong or
 * expired token is 401 and a token of another conversation 404, both with nothing
 * more said. Shapes: docs/conversations.md.
 */
export const DEFAULT_STREAM_HEARTBEAT_MS = 15_000;

const params = z.object({ id: z.uuid({ error: 'must be a UUID' }) });
const messageId = z.string().regex(/^\d{1,18}$/, { error: 'must be a message id' });

export const visitorMessageSchema = z.object({
  id: z.string(),
  role: z.enum(['visitor', 'bot', 'agent']),
  text: z.string(),
  senderName: z.string().nullable(),
  at: z.string().nullable(),
  createdAt: z.string(),
});

const pageSchema = z.object({
  items: z.array(visitorMessageSchema),
  cursor: z.string().nullable(),
  hasMore: z.boolean(),
});

function bearer(request: FastifyRequest): string | undefined {
  const authorization = request.headers.authorization;
  if (typeof authorization !== 'string') return undefined;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization.trim());
  return match?.[1];
}

function unauthorized(reply: FastifyReply) {
  return reply
    .code(401)
    .header('www-authenticate', 'Bearer realm="leadrelay-conversation"')
    .send({ error: 'unauthorized', message: 'A valid conversation token is required' });
}

function notFound(reply: FastifyReply) {
  return reply.code(404).send({ error: 'not_found', message: 'Conversation not found' });
}

/**
 * Runs a visitor operation; token failures are answered the same way everywhere
 * (401 or 404) and give undefined, after which the handler returns the reply.
 */
async function asVisitor<T>(reply: FastifyReply, work: () => Promise<T>): Promise<T | undefined> {
  try {
    return await work();
  } catch (error) {
    if (error instanceof ConversationTokenError) {
      await unauthorized(reply);
      return undefined;
    }
    if (error instanceof NotFoundError) {
      await notFound(reply);
      return undefined;
    }
    throw error;
  }
}

export interface ConversationRouteOptions {
  storage: Storage;
  config: Config;
  feed: LiveFeed;
  heartbeatMs?: number;
}

export async function conversationRoutes(app: FastifyInstance, options: ConversationRouteOptions) {
  const { storage, config, feed } = options;
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const store = visitorStore(storage);
  const limits = chatLimits(app, config);
  const streamKey = config.admin.apiKey;
  if (!streamKey)
    throw new Error('admin.apiKey must be resolved before the conversation routes are registered');
  const heartbeatMs = options.heartbeatMs ?? DEFAULT_STREAM_HEARTBEAT_MS;
  const openStreams = new Set<() => void>();
  app.addHook('preClose', async () => {
    for (const end of openStreams) end();
  });
  // The kill switch first: before authentication, limits and validation.
  app.addHook('onRequest', chatKillSwitch(config));

  typed.post(
    '/api/chatbot/conversations/:id/messages',
    {
      onRequest: limits.messages,
      schema: {
        summary: "Send a visitor message (Bearer: the capture's conversationToken)",
        params,
        body: z.strictObject({ text: messageText }, { error: 'must be a JSON object with text' }),
        response: {
          201: z.object({ id: z.string(), createdAt: z.string() }),
          ...errorResponses(400, 401, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const token = bearer(request);
      if (!token) return unauthorized(reply);
      const posted = await asVisitor(reply, () =>
        store.post(request.params.id, token, request.body.text, config.chat.alertCooldownSeconds),
      );
      if (!posted) return reply;
      const dueNow = posted.alertDueAt !== null && Date.parse(posted.alertDueAt) <= Date.now() + 1000;
      announceMessage(
        storage,
        {
          conversationId: request.params.id,
          id: posted.id,
          role: 'visitor',
          eventId: dueNow ? posted.eventId : null,
        },
        (error) => request.log.warn({ err: error }, 'Could not announce a visitor message; polling finds it'),
      );
      request.log.info(
        { conversationId: request.params.id, messageId: posted.id, alertEventId: posted.eventId },
        'Visitor message stored',
      );
      return reply.code(201).send({ id: posted.id, createdAt: posted.createdAt });
    },
  );

  typed.get(
    '/api/chatbot/conversations/:id/messages',
    {
      onRequest: limits.reads,
      schema: {
        summary: 'The conversation, oldest first; ?after=<cursor> for what follows',
        params,
        querystring: z.object({ after: messageId.optional() }),
        response: { 200: pageSchema, ...errorResponses(400, 401, 404, 429, 503) },
      },
    },
    async (request, reply) => {
      const token = bearer(request);
      if (!token) return unauthorized(reply);
      const page = await asVisitor(reply, () => store.list(request.params.id, token, request.query.after));
      if (!page) return reply;
      return reply.header('cache-control', 'no-store').send(page);
    },
  );

  typed.post(
    '/api/chatbot/conversations/:id/stream-token',
    {
      onRequest: limits.reads,
      schema: {
        summary: 'A one-minute token for the stream (EventSource cannot send headers)',
        params,
        response: {
          200: z.object({ token: z.string(), expiresAt: z.string() }),
          ...errorResponses(400, 401, 404, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const token = bearer(request);
      if (!token) return unauthorized(reply);
      const view = await asVisitor(reply, () => store.authenticate(request.params.id, token));
      if (!view) return reply;
      return reply
        .header('cache-control', 'no-store')
        .send(createConversationStreamToken(streamKey, request.params.id, String(view.visibleAfter)));
    },
  );

  typed.get(
    '/api/chatbot/conversations/:id/stream',
    {
      onRequest: limits.reads,
      schema: {
        summary: 'Agent replies as Server-Sent Events (?token=<stream token> or Bearer)',
        params,
        querystring: z.object({ token: optionalText(200), after: messageId.optional() }),
        response: errorResponses(400, 401, 404, 429, 503),
      },
    },
    async (request, reply) => {
      const conversationId = request.params.id;
      let visibleAfter: string;
      const header = bearer(request);
      if (header) {
        const view = await asVisitor(reply, () => store.authenticate(conversationId, header));
        if (!view) return reply;
        visibleAfter = String(view.visibleAfter);
      } else {
        const query = request.query.token;
        const view = query ? verifyConversationStreamToken(streamKey, conversationId, query) : null;
        if (!view) return unauthorized(reply);
        visibleAfter = view.visibleAfter;
      }

      let deliver: (message: FeedMessage) => void = () => {};
      const early: FeedMessage[] = [];
      deliver = (message) => early.push(message);
      const unsubscribe = await feed.subscribe((message) => deliver(message));
      if (!unsubscribe) {
        return reply.code(503).send({
          error: 'stream_unavailable',
          message: 'Live updates are not available with this storage mode; poll the messages instead',
        });
      }
      let cursor: string;
      try {
        cursor = request.query.after ?? (await latestMessageId(storage, conversationId));
      } catch (error) {
        unsubscribe();
        throw error;
      }

      reply.hijack();
      const raw = reply.raw;
      raw.writeHead(200, {
        ...headersSetSoFar(reply),
        'content-type': 'text/event-stream; charset=utf-8',
        'cache-control': 'no-cache, no-transform',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
        'x-request-id': request.id,
      });
      let ended = false;
      const write = (data: object) => {
        if (!ended) raw.write(`data: ${JSON.stringify(data)}\n\n`);
      };
      raw.write('retry: 3000\n\n');
      write({ kind: 'ready', cursor });

      // One fetch at a time; a notification during a fetch asks for one more after it.
      let fetching = false;
      let again = false;
      const pull = async () => {
        if (fetching) {
          again = true;
          return;
        }
        fetching = true;
        try {
          do {
            again = false;
            let page: { items: VisitorMessage[]; cursor: string | null; hasMore: boolean };
            do {
              page = await store.agentRepliesAfter(conversationId, visibleAfter, cursor);
              for (const message of page.items) write({ kind: 'message.created', message });
              if (page.cursor) cursor = page.cursor;
            } while (page.hasMore && !ended);
          } while (again && !ended);
        } catch (error) {
          request.log.warn({ err: error, conversationId }, 'Conversation stream could not fetch replies');
        } finally {
          fetching = false;
        }
      };
      const onFeed = (message: FeedMessage) => {
        if (message.kind === 'resync') return void pull();
        if (message.kind === 'message.created' && message.id === conversationId && message.role === 'agent') {
          void pull();
        }
      };
      for (const message of early) onFeed(message);
      deliver = onFeed;
      // Anything that arrived between the cursor and the subscription.
      void pull();

      const heartbeat = setInterval(
        () => raw.write(`event: heartbeat\ndata: ${JSON.stringify({ at: new Date().toISOString() })}\n\n`),
        heartbeatMs,
      );
      const end = () => {
        if (ended) return;
        ended = true;
        clearInterval(heartbeat);
        unsubscribe();
        openStreams.delete(end);
        raw.end();
      };
      openStreams.add(end);
      request.raw.on('close', end);
      raw.on('error', end);
      request.log.info({ conversationId }, 'Conversation stream opened');
    },
  );
}

/**
 * A hijacked reply writes the raw response itself, so the headers set on the reply
 * so far (CORS for the widget's origin, helmet's) would be lost: copy them over.
 */
function headersSetSoFar(reply: FastifyReply): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(reply.getHeaders())) {
    if (typeof value === 'string' || typeof value === 'number') out[name] = String(value);
  }
  return out;
}
