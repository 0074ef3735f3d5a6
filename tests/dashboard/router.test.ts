import { describe, expect, it } from 'vitest';
import { formatHash, parseHash } from '../../src/dashboard/client/router.js';

/** The dashboard's URL: #/<page>[/<id>][?filters], as alert links and reloads use it. */
describe('dashboard routes', () => {
  it('reads the lead link that alerts send', () => {
    expect(parseHash('#/leads/4f0c9a2e-0000-4000-8000-000000000001')).toEqual({
      page: 'leads',
      id: '4f0c9a2e-0000-4000-8000-000000000001',
      params: {},
    });
  });

  it('defaults to the leads list and keeps filters, dropping empty ones', () => {
    expect(parseHash('')).toEqual({ page: 'leads', id: null, params: {} });
    expect(parseHash('#/leads?status=new&q=&sla_breached=true')).toEqual({
      page: 'leads',
      id: null,
      params: { status: 'new', sla_breached: 'true' },
    });
  });

  it('writes what it reads, escaping text typed into the search', () => {
    const route = { page: 'leads', id: 'abc', params: { q: 'a&b=c #1' } };
    const hash = formatHash(route);
    expect(hash).toBe('#/leads/abc?q=a%26b%3Dc+%231');
    expect(parseHash(hash)).toEqual(route);
    expect(formatHash({ page: 'overview', id: null, params: {} })).toBe('#/overview');
  });
});
