import type { DashboardModel } from '../dashboard.js';
import type { LiveMode } from '../live/connection.js';
import type { PageDef } from '../pages.js';
import type { Route } from '../router.js';
import { formatHash } from '../router.js';
import { useStore } from '../state/store.js';
import { formatClock } from './format.js';

/** The top bar: name, the views (from pages.ts), the live state in words, sign-out. */
const MODE_LABEL: Record<LiveMode, string> = {
  off: 'Not connected',
  connecting: 'Connecting…',
  live: 'Live',
  polling: 'Polling',
  reconnecting: 'Reconnecting…',
};

const MODE_HINT: Record<LiveMode, string> = {
  off: '',
  connecting: '',
  live: 'Updates arrive as they happen (stream open).',
  polling: 'Live stream unavailable: checking for changes every second.',
  reconnecting: 'Updates have stopped; retrying.',
};

export function ConnectionStatus({ model }: { model: DashboardModel }) {
  const status = useStore(model.live.status);
  return (
    <p class="connection" data-state={status.mode} title={MODE_HINT[status.mode]}>
      <span class="connection-dot" aria-hidden="true" />
      <span id="connection-state">{MODE_LABEL[status.mode]}</span>
      {status.lastUpdateAt !== null && (
        <span class="connection-time">
          {' · updated '}
          <time dateTime={new Date(status.lastUpdateAt).toISOString()}>
            {formatClock(status.lastUpdateAt)}
          </time>
        </span>
      )}
    </p>
  );
}

export function Header({ model, route, pages }: { model: DashboardModel; route: Route; pages: PageDef[] }) {
  const session = useStore(model.session);
  return (
    <header class="top">
      {/* A button, not a link to #main: the hash belongs to the router. */}
      <button type="button" class="skip" onClick={() => document.getElementById('main')?.focus()}>
        Skip to content
      </button>
      <p class="brand">
        <span class="brand-mark" aria-hidden="true">
          ◆
        </span>{' '}
        leadrelay
      </p>
      {session.signedIn && (
        <nav aria-label="Views" class="nav">
          {pages.map((page) => (
            <a
              key={page.id}
              href={formatHash({ page: page.id, id: null, params: {} })}
              aria-current={route.page === page.id ? 'page' : undefined}
            >
              {page.title}
            </a>
          ))}
        </nav>
      )}
      <div class="top-end">
        {session.signedIn && <ConnectionStatus model={model} />}
        {session.signedIn && (
          <button type="button" class="secondary small" onClick={() => model.signOut()}>
            Sign out
          </button>
        )}
      </div>
    </header>
  );
}
