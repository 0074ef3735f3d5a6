/**
 * leadrelay's visitor widget client: an ES module with no dependencies, served by the
 * API at GET /widget/leadrelay.js (bundled by src/dashboard/build.ts). A site includes
 * it as it is:
 *
 *   import { submitLead, openConversation } from 'https://api.example.com/widget/leadrelay.js';
 *   const lead = await submitLead({ customerName, customerEmail, transcript });
 *   const chat = openConversation(lead, { onMessage: (m) => show(m) });
 *   await chat.send('One more question…');
 *
 * docs/widget.md has the whole example and the options.
 */
export {
  type ChatMessage,
  type Conversation,
  type ConversationOptions,
  type ConversationState,
  openConversation,
} from './conversation.js';
export {
  DEFAULT_RETRY,
  type LeadFields,
  type RetryPolicy,
  type SubmitOptions,
  type SubmittedLead,
  submitLead,
} from './submit-lead.js';
export { WidgetError } from './widget-http.js';
