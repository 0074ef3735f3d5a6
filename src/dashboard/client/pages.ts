import type { JSX } from 'preact';
import type { DashboardModel } from './dashboard.js';
import type { Route } from './router.js';
import { AuditPage } from './views/audit-page.js';
import { LeadsPage } from './views/leads-page.js';
import { OverviewPage } from './views/overview-page.js';
import { TeamPage } from './views/team-page.js';

/**
 * The dashboard's views, in navigation order. A view is a component that takes the
 * model and the route; its id is the first part of the hash (#/<id>/...). Adding a
 * view is one module under views/ and one line here (docs/dashboard.md).
 */
export interface PageProps {
  model: DashboardModel;
  route: Route;
}

export interface PageDef {
  id: string;
  title: string;
  component: (props: PageProps) => JSX.Element;
}

export const PAGES: PageDef[] = [
  { id: 'leads', title: 'Leads', component: LeadsPage },
  { id: 'overview', title: 'Overview', component: OverviewPage },
  { id: 'team', title: 'Team', component: TeamPage },
  { id: 'audit', title: 'Audit', component: AuditPage },
];
