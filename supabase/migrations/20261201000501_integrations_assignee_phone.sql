-- leadrelay integrations: SMS to the lead's assignee (issue 13 with issue 12's team).
--
-- Why this file exists: an SMS alert goes to SMS_TO and, when the lead has an
-- assignee with a phone, to that person too. Team members (team_members.phone) come
-- from the team migration, which may land before or after this one, so the lookup is
-- written to work either way. Runs on PostgreSQL 15 and PGlite, and twice.

-- The assignee's phone, or null: no such table yet (team migration not applied), no
-- such member, an inactive ("away") member, or no phone. Dynamic SQL because the table
-- may not exist when this function is created; plpgsql would otherwise resolve it at
-- first call anyway, but EXECUTE keeps the dependency visible and the guard explicit.
create or replace function integration_assignee_phone(p_member_id uuid) returns jsonb
language plpgsql stable as $$
declare
  v_phone text;
begin
  if p_member_id is null or to_regclass('team_members') is null then
    return 'null'::jsonb;
  end if;
  execute 'select phone from team_members where id = $1 and active' into v_phone using p_member_id;
  return to_jsonb(v_phone);
exception when undefined_column then
  return 'null'::jsonb;
end
$$;

revoke all on function integration_assignee_phone(uuid) from public, anon, authenticated;
grant execute on function integration_assignee_phone(uuid) to service_role;
