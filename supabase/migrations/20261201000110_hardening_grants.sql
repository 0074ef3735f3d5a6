-- leadrelay hardening, grants: the claim's helper for service_role.
--
-- Why this file exists: every leadrelay function is SECURITY INVOKER, so in Supabase's
-- rpc mode (everything runs as service_role) a helper that a granted function calls
-- needs EXECUTE too (20261201000010_rpc_grants.sql states the rule and
-- tests/storage/rpc-grants.test.ts checks it). 20261201000100_hardening.sql treated
-- lead_event_round_settled, called by claim_lead_events, as internal and granted it to
-- nobody, so a worker on Supabase rpc could not claim. That file has landed and is not
-- edited; this one adds the grant. Runs on PostgreSQL 15 and PGlite, and twice.
revoke all on function lead_event_round_settled(bigint, timestamptz, text[]) from public, anon, authenticated;
grant execute on function lead_event_round_settled(bigint, timestamptz, text[]) to service_role;
