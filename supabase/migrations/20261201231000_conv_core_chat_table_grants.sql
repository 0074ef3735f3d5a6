-- leadrelay conversations (issue 14), follow-up: table privileges for service_role.
--
-- Why this file exists: 20261201222000_conv_core_chat_messages revoked the API roles'
-- default privileges on the chat tables but granted service_role none, so in Supabase
-- rpc mode (every call runs as service_role; the functions are SECURITY INVOKER) the
-- chat functions were refused with 42501 (permission denied for table
-- conversation_tokens). The same grants as the team tables get
-- (20261201000400_team_assignment_audit); anon and authenticated still get nothing.
-- tests/conversations/supabase-mode.test.ts runs every chat function through the
-- PostgREST stand-in. Runs on PostgreSQL 15 and PGlite, and twice.
grant select, insert, update, delete
  on table chat_messages, conversation_tokens, chat_alert_state, chat_alert_batches
  to service_role;
