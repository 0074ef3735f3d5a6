import { randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { ZodTypeProvider } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Config } from '../../config.js';
import { issueConversationToken } from '../../conversations/conversation-tokens.js';
import { captureLead } from '../../leads/capture-lead.js';
import {
  chatbotLeadSchema,
  contactFormSchema,
  type LeadSubmission,
  LIMITS,
  MAX_CHATBOT_BODY_BYTES,
  MAX_LEAD_BODY_BYTES,
} from '../../leads/lead-input.js';
import type { Storage } from '../../storage/storage.js';
import { businessDeadline } from '../../team/business-hours.js';
import { errorResponses } from '../error-schemas.js';
import { HttpError } from '../errors.js';
import { perMinute } from '../rate-limit.js';

/**
 * Public intake: the chatbot widget's leads and the contact form. Both store through
 * capture_lead (lead, outbox event, timeline, follow-up task in one transaction).
 */
const idempotencyHeaders = z.object({
  'idempotency-key': z
    .string()
    .trim()
    .min(1, { error: 'must not be empty' })
    .max(LIMITS.idempotencyKey, { error: `must be at most ${LIMITS.idempotencyKey} characters` })
    .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces' })
    .optional(),
});

const acceptedLead = z.object({
  id: z.uuid(),
  createdAt: z.string(),
  duplicate: z.boolean(),
  /** The submission was added as a new inquiry to an open lead with the same email or phone. */
  returning: z.boolean(),
  /**
   * Chatbot leads (issue 14): the widget's bearer token for /api/chatbot/conversations/<id>,
   * shown once (stored as a hash). Absent with CHAT_DISABLED=true.
   */
  conversationToken: z.string().optional(),
});

export async function intakeRoutes(
  app: FastifyInstance,
  { storage, config }: { storage: Storage; config: Config },
) {
  const typed = app.withTypeProvider<ZodTypeProvider>();
  const intakeOptions = {
    defaultCountry: config.leads.defaultPhoneCountry,
    honeypotField: config.leads.honeypotField,
  };

  const accept = async (
    request: FastifyRequest,
    reply: FastifyReply,
    headerKey: string | undefined,
    submission: LeadSubmission,
    chat = false,
  ) => {
    // The chatbot's leads open a conversation: a token for the widget, unless chat is off.
    const token = chat && !config.chat.disabled ? issueConversationToken() : undefined;
    if (token) reply.header('cache-control', 'no-store');
    if (submission.isBot) {
      // Look like a success so the bot learns nothing; store nothing.
      request.log.info({ honeypot: true }, 'Honeypot field filled: submission dropped');
      return reply.code(201).send({
        id: randomUUID(),
        createdAt: new Date().toISOString(),
        duplicate: false,
        returning: false,
        ...(token ? { conversationToken: token.token } : {}),
      });
    }
    if (headerKey && submission.idempotencyKey && headerKey !== submission.idempotencyKey) {
      throw new HttpError(
        400,
        'idempotency_key_mismatch',
        'Idempotency-Key header and idempotencyKey field differ',
      );
    }
    const result = await captureLead(storage, submission.lead, {
      idempotencyKey: headerKey ?? submission.idempotencyKey,
      slaMinutes: config.leads.slaFirstResponseMinutes,
      assignment: config.team.assignmentStrategy,
      duplicateWindowDays: config.leads.duplicateWindowDays,
      ...(chat
        ? {
            conversation: {
              transcript: submission.transcript ?? [],
              tokenHash: token?.hash ?? null,
              tokenTtlDays: config.chat.tokenTtlDays,
            },
          }
        : {}),
      slaDueAt: config.team.businessHours
        ? businessDeadline(
            new Date(),
            config.leads.slaFirstResponseMinutes,
            config.team.businessHours,
            config.team.timeZone,
          )
        : undefined,
      onAnnounceError: (error) =>
        request.log.warn(
          { err: error },
          'Could not wake workers for a new lead; they will find it at their next poll',
        ),
    });
    if (result.created) {
      request.log.info(
        { conversationId: result.id, source: submission.lead.source },
        `Successfully created conversation ${result.id}`,
      );
      request.log.info({ eventId: result.eventId, conversationId: result.id }, 'Event emitted: lead.created');
    } else if (!result.replayed) {
      request.log.info(
        { conversationId: result.id, eventId: result.eventId },
        'Returning lead: submission stored as a new inquiry (lead.returned)',
      );
    } else {
      request.log.info({ conversationId: result.id }, 'Idempotent repeat: returning the original lead');
      reply.header('idempotent-replayed', 'true');
    }
    return reply.code(result.replayed ? 200 : 201).send({
      id: result.id,
      createdAt: result.createdAt,
      duplicate: result.replayed,
      returning: result.returning,
      ...(token ? { conversationToken: token.token } : {}),
    });
  };

  const responses = {
    200: acceptedLead,
    201: acceptedLead,
    ...errorResponses(400, 403, 413, 415, 422, 429, 503),
  };

  typed.post(
    '/api/chatbot/leads',
    {
      config: perMinute(config.http.rateLimits.leadsPerMinute),
      // Room for the largest valid transcript beside the largest valid lead.
      bodyLimit: config.http.bodyLimitBytes + MAX_CHATBOT_BODY_BYTES - MAX_LEAD_BODY_BYTES,
      schema: {
        summary: 'Capture a lead from the chatbot widget',
        headers: idempotencyHeaders,
        body: chatbotLeadSchema(intakeOptions),
        response: responses,
      },
    },
    (request, reply) => accept(request, reply, request.headers['idempotency-key'], request.body, true),
  );

  typed.post(
    '/api/contact',
    {
      config: perMinute(config.http.rateLimits.contactPerMinute),
      schema: {
        summary: 'Capture a contact-form submission as a lead',
        headers: idempotencyHeaders,
        body: contactFormSchema(intakeOptions),
        response: responses,
      },
    },
    (request, reply) => accept(request, reply, request.headers['idempotency-key'], request.body),
  );
}
