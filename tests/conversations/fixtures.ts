import type { FastifyInstance } from 'fastify';

/** Chat test helpers: a chatbot lead with its conversation, posted the way the widget does. */
let counter = 0;

export interface OpenedConversation {
  id: string;
  token: string;
  /** Headers that act as the widget of this conversation. */
  visitor: { authorization: string };
}

export const chatLimits = {
  RATE_LIMIT_ADMIN_PER_MINUTE: '100000',
  RATE_LIMIT_LEADS_PER_MINUTE: '100000',
  RATE_LIMIT_CHAT_MESSAGES_PER_MINUTE: '100000',
  RATE_LIMIT_CHAT_READS_PER_MINUTE: '100000',
};

export async function openConversation(
  app: FastifyInstance,
  body: Record<string, unknown> = {},
  headers: Record<string, string> = {},
): Promise<OpenedConversation> {
  counter += 1;
  const response = await app.inject({
    method: 'POST',
    url: '/api/chatbot/leads',
    headers,
    payload: {
      customerName: `Visitor ${counter}`,
      customerEmail: `visitor${counter}.${Date.now()}@chat.test`,
      intent: 'buy',
      ...body,
    },
  });
  if (response.statusCode !== 201) throw new Error(`capture failed: ${response.statusCode} ${response.body}`);
  const { id, conversationToken } = response.json();
  return { id, token: conversationToken, visitor: { authorization: `Bearer ${conversationToken}` } };
}

export function say(app: FastifyInstance, conversation: OpenedConversation, text: string) {
  return app.inject({
    method: 'POST',
    url: `/api/chatbot/conversations/${conversation.id}/messages`,
    headers: conversation.visitor,
    payload: { text },
  });
}
