-- leadrelay hardening: completing a task stays in lock order when a merge moves it.
--
-- Why this file exists: 20261201000100_hardening.sql made admin_complete_task lock the
-- lead before the task (the order admin_update_lead uses), reading the task's lead
-- without a lock on the grounds that a task never moves. admin_merge_leads
-- (20261201000400_team_assignment_audit.sql) does move tasks to the surviving lead. If
-- a merge commits between that read and the locks, the task belongs to a lead we do not
-- hold, and its update would take that lead's lock after the task's: the old
-- task-then-lead order, and a deadlock with a PATCH on the survivor.
--
-- The fix rests on one fact: moving a task takes its lead's lock (admin_merge_leads
-- locks both leads before it moves anything). So once we hold the lead's lock and the
-- task is still on that lead, it stays there; if it moved before we got the lock, we
-- follow it to its new lead and check again. The task itself is locked only after its
-- lead, so every path is lead, then task.
-- Runs on PostgreSQL 15 and PGlite, and twice: CREATE OR REPLACE keeps the grants.

-- Lead first (following the task if a merge moved it), then the task.
create or replace function admin_complete_task(p_task_id bigint, p_actor text default 'admin')
returns jsonb
language plpgsql as $$
declare
  v_conversation_id uuid;
  v_task follow_up_tasks%rowtype;
  v_now timestamptz := now();
begin
  loop
    -- Each statement sees what has committed, so a finished merge shows here.
    select conversation_id into v_conversation_id from follow_up_tasks where id = p_task_id;
    if not found then
      raise exception 'task % not found', p_task_id using errcode = 'LR404';
    end if;
    perform admin_lock_lead(v_conversation_id, null);
    exit when exists (select 1 from follow_up_tasks where id = p_task_id and conversation_id = v_conversation_id);
  end loop;
  select * into v_task from follow_up_tasks where id = p_task_id for update;
  if not found then
    raise exception 'task % not found', p_task_id using errcode = 'LR404';
  end if;
  if v_task.status <> 'open' then
    return jsonb_build_object('taskId', v_task.id, 'status', v_task.status, 'changed', false,
                              'completedAt', v_task.completed_at);
  end if;
  update follow_up_tasks
     set status = 'done', completed_at = v_now, completed_by = p_actor, updated_at = v_now
   where id = p_task_id
   returning * into v_task;
  insert into conversation_timeline (conversation_id, entry_type, title, details, actor)
  values (v_task.conversation_id, 'task_completed', 'Task completed: ' || v_task.title,
          jsonb_build_object('taskId', v_task.id, 'taskType', v_task.task_type), p_actor);
  update conversations
     set first_response_at = case when v_task.task_type = 'first_contact'
                                  then coalesce(first_response_at, v_now) else first_response_at end,
         version = version + 1,
         updated_at = v_now
   where id = v_task.conversation_id;
  return jsonb_build_object('taskId', v_task.id, 'status', v_task.status, 'changed', true,
                            'completedAt', v_task.completed_at, 'conversationId', v_task.conversation_id);
end
$$;
