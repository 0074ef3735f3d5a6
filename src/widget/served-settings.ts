/**
 * Settings the API writes into the script it serves (src/http/routes/widget.ts replaces
 * the marker with the configured value), so a site includes the file as it is and the
 * widget still matches the server. Unreplaced (source imported directly, tests), the
 * defaults apply.
 */
const HONEYPOT_MARKER = '%%LEADRELAY_HONEYPOT_FIELD%%';

/** The honeypot's field name (HONEYPOT_FIELD on the server, default `leadrelay_hp`). */
export function honeypotField(): string {
  const served: string = HONEYPOT_MARKER;
  return served.startsWith('%%') ? 'leadrelay_hp' : served;
}
