-- leadrelay erasure: bulk-action records forget an erased person too.
--
-- Why this file exists: bulk actions (20261201233000_bulk_actions.sql) keep, per lead,
-- the previous values of the fields they changed (bulk_action_items.before: tags can be
-- free text), and as requested the target, whose filter may have searched for the
-- person (filter.q = their email or phone). erase_lead nulls the lead's contact fields
-- and sets erased_at; this trigger, on exactly that change, clears the items' undo
-- values for the lead (an erased lead is never undone: the engine skips it as missing)
-- and replaces a search that names the person with "[erased]". A trigger rather than
-- another copy of erase_lead: it follows every erasure path (request, bulk, retention).
-- Runs on PostgreSQL 15 and PGlite, and twice.

create or replace function erasure_after_lead_erased() returns trigger
language plpgsql as $$
begin
  update bulk_action_items set before = null where conversation_id = new.id and before is not null;
  update bulk_actions a
     set target = jsonb_set(a.target, '{filter,q}', '"[erased]"'::jsonb)
   where jsonb_typeof(a.target->'filter'->'q') = 'string'
     and length(trim(a.target->'filter'->>'q')) >= 3
     and exists (
       select 1 from unnest(array[old.customer_email, old.customer_phone, old.customer_name]) v(value)
        where v.value is not null
          and (strpos(lower(v.value), lower(trim(a.target->'filter'->>'q'))) > 0
               or strpos(lower(a.target->'filter'->>'q'), lower(v.value)) > 0));
  return null;
end
$$;

drop trigger if exists conversations_erased_cleanup on conversations;
create trigger conversations_erased_cleanup
  after update of erased_at on conversations
  for each row
  when (new.erased_at is not null and old.erased_at is null)
  execute function erasure_after_lead_erased();

revoke all on function erasure_after_lead_erased() from public, anon, authenticated, service_role;
