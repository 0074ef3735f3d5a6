import { afterAll, beforeAll, expect, it } from 'vitest';
import { createTestDatabase, describeEachDatabase, type TestDatabase } from '../helpers/databases.js';

/**
 * "Latest 50 messages of a conversation" walks one index backwards and stops: its cost
 * does not grow with the table. Checked on the plan, for the three pages the API asks
 * for (latest, older, newer); the timing with a million rows belongs to the bench.
 */
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describeEachDatabase('chat_messages keyset index', (kind) => {
  let db: TestDatabase;
  let target: string;

  beforeAll(async () => {
    db = await createTestDatabase(kind);
    await db.storage.query(
      `insert into conversations (customer_name) select 'c' || g from generate_series(1, 200) g`,
    );
    await db.storage.query(`insert into chat_messages (conversation_id, role, body)
      select c.id, 'visitor', 'message ' || g
        from generate_series(1, 40000) g
        join (select id, row_number() over () - 1 as n from conversations) c on c.n = g % 200`);
    await db.storage.query('analyze chat_messages');
    target = (await db.storage.query<{ id: string }>('select id from conversations limit 1'))[0]!.id;
  });
  afterAll(async () => {
    await db?.close();
  });

  const planOf = async (sql: string, params: unknown[]) => {
    const rows = await db.storage.query<{ 'QUERY PLAN': unknown }>(`explain (format json) ${sql}`, params);
    const raw = rows[0]!['QUERY PLAN'];
    const parsed = (typeof raw === 'string' ? JSON.parse(raw) : raw) as { Plan: PlanNode }[];
    return nodes(parsed[0]!.Plan);
  };

  it('answers the latest page and the older pages from chat_messages_conversation_idx, without a sort', async () => {
    for (const [sql, params] of [
      ['select * from chat_messages m where m.conversation_id = $1 order by m.id desc limit 51', [target]],
      [
        'select * from chat_messages m where m.conversation_id = $1 and m.id < $2 order by m.id desc limit 51',
        [target, 30000],
      ],
      [
        'select * from chat_messages m where m.conversation_id = $1 and m.id > $2 order by m.id limit 51',
        [target, 100],
      ],
    ] as const) {
      const plan = await planOf(sql, [...params]);
      expect(
        plan.some((node) => node['Index Name'] === 'chat_messages_conversation_idx'),
        sql,
      ).toBe(true);
      expect(
        plan.some((node) => node['Node Type'] === 'Sort'),
        sql,
      ).toBe(false);
    }
    const page = await db.storage.call<{ items: { id: string }[]; olderCursor: string | null }>(
      'chat_admin_messages',
      { p_conversation_id: target, p_limit: 50 },
    );
    expect(page.items).toHaveLength(50);
    expect(page.olderCursor).toBe(page.items[0]!.id);
  });
});
