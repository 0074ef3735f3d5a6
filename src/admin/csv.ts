import type { AdminLead } from './admin-store.js';

/**
 * CSV for the lead export (RFC 4180: comma-separated, CRLF line ends, fields quoted
 * when they hold a comma, quote or line break, quotes doubled).
 *
 * Formula injection: a spreadsheet runs a cell that starts with = + - @ (or a tab or
 * carriage return, which some parse past) as a formula, so a lead named
 * `=HYPERLINK(...)` could act on the admin's machine. Such cells get a leading `'`
 * (OWASP's advice), which spreadsheets show as text. Phone numbers in E.164 start with
 * `+` and are therefore exported as `'+971...`.
 */
const FORMULA_START = /^[=+\-@\t\r]/;

export function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  let text = typeof value === 'object' ? JSON.stringify(value) : String(value);
  if (FORMULA_START.test(text)) text = `'${text}`;
  if (/[",\r\n]/.test(text)) text = `"${text.replaceAll('"', '""')}"`;
  return text;
}

export function csvRow(values: unknown[]): string {
  return `${values.map(csvCell).join(',')}\r\n`;
}

export const LEAD_CSV_COLUMNS: { header: string; value: (lead: AdminLead) => unknown }[] = [
  { header: 'id', value: (lead) => lead.id },
  { header: 'created_at', value: (lead) => lead.createdAt },
  { header: 'status', value: (lead) => lead.status },
  { header: 'customer_name', value: (lead) => lead.customerName },
  { header: 'customer_email', value: (lead) => lead.customerEmail },
  { header: 'customer_phone', value: (lead) => lead.customerPhone },
  { header: 'intent', value: (lead) => lead.intent },
  { header: 'source', value: (lead) => lead.source },
  { header: 'message', value: (lead) => lead.message },
  { header: 'assigned_to', value: (lead) => lead.assignedTo },
  { header: 'sla_due_at', value: (lead) => lead.slaDueAt },
  { header: 'sla_breached', value: (lead) => lead.slaBreached },
  { header: 'first_response_at', value: (lead) => lead.firstResponseAt },
];

/** The export as CSV text chunks: a header row, then one chunk per page of leads. */
export async function* leadsCsv(pages: AsyncIterable<AdminLead[]>): AsyncGenerator<string> {
  yield csvRow(LEAD_CSV_COLUMNS.map((column) => column.header));
  for await (const page of pages) {
    yield page.map((lead) => csvRow(LEAD_CSV_COLUMNS.map((column) => column.value(lead)))).join('');
  }
}
