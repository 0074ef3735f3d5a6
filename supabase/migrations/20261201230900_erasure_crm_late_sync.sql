-- leadrelay erasure: a CRM sync that lands after the erasure deletes what it created.
--
-- Why this file exists: a worker may have claimed a lead's lead.created (with the
-- person's data in memory) just before the lead was erased; HubSpot then creates the
-- contact and the worker records its id after the erasure. Recording it on the
-- tombstone would keep a link to a contact that holds the person's data, and the
-- lead.erased already written carried no id for it. So crm_record_contact(s), for an
-- erased lead, record nothing and queue one more lead.erased with that contact id and
-- `crmOnly: true` (webhook endpoints were told already; the CRM sender deletes the
-- contact). Otherwise as in 20261201000500_integrations.sql.
-- Runs on PostgreSQL 15 and PGlite (Postgres 18), and twice.

create or replace function crm_erase_late_contact(p_conversation_id uuid, p_provider text, p_contact_id text)
returns void
language sql as $$
  insert into lead_events (event_type, conversation_id, payload)
  select 'lead.erased', c.id, jsonb_build_object(
           'conversationId', c.id, 'erasedAt', c.erased_at, 'reason', 'request', 'actor', 'system',
           'crm', jsonb_build_object(p_provider, p_contact_id), 'crmOnly', true)
    from conversations c
   where c.id = p_conversation_id and c.erased_at is not null;
$$;

create or replace function crm_record_contact(p_conversation_id uuid, p_provider text, p_contact_id text)
returns jsonb
language sql as $$
  select crm_erase_late_contact(p_conversation_id, p_provider, p_contact_id);
  insert into crm_contacts (conversation_id, provider, contact_id)
  select p_conversation_id, p_provider, p_contact_id
   where exists (select 1 from conversations where id = p_conversation_id and erased_at is null)
  on conflict (conversation_id, provider) do update
     set contact_id = excluded.contact_id, synced_at = now();
  select jsonb_build_object('conversationId', p_conversation_id, 'contactId', p_contact_id)
$$;

create or replace function crm_record_contacts(p_provider text, p_links jsonb) returns jsonb
language sql as $$
  select crm_erase_late_contact(c.id, p_provider, l->>'contactId')
    from jsonb_array_elements(coalesce(p_links->'links', '[]'::jsonb)) l
    join conversations c on c.id = (l->>'conversationId')::uuid
   where c.erased_at is not null;
  insert into crm_contacts (conversation_id, provider, contact_id)
  select distinct on ((l->>'conversationId')::uuid) (l->>'conversationId')::uuid, p_provider, l->>'contactId'
    from jsonb_array_elements(coalesce(p_links->'links', '[]'::jsonb)) l
    join conversations c on c.id = (l->>'conversationId')::uuid
   where c.erased_at is null
  on conflict (conversation_id, provider) do update
     set contact_id = excluded.contact_id, synced_at = now();
  select jsonb_build_object('recorded', jsonb_array_length(coalesce(p_links->'links', '[]'::jsonb)))
$$;

revoke all on function crm_erase_late_contact(uuid, text, text) from public, anon, authenticated;
grant execute on function crm_erase_late_contact(uuid, text, text) to service_role;
