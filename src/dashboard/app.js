// leadrelay admin dashboard: plain browser JavaScript, no build step.
// Live updates come from the SSE stream (/api/admin/stream); when it fails the page
// polls the API every second (seed 002's fallback) and tries the stream again later.
// Every value from the API is written with textContent, never as HTML: lead fields
// are typed by strangers.

const KEY_STORAGE = 'leadrelay.adminKey';
const POLL_MS = 1000;
const STREAM_RETRY_MS = 30_000;
const PAGE_SIZE = 50;

const state = {
  key: sessionStorage.getItem(KEY_STORAGE),
  leads: [],
  nextCursor: null,
  selectedId: null,
  detail: null,
  stream: null,
  pollTimer: null,
  streamRetryTimer: null,
  refreshTimer: null,
};

const $ = (id) => document.getElementById(id);

class Unauthorized extends Error {}

async function api(path, options = {}) {
  const response = await fetch(path, {
    ...options,
    headers: {
      authorization: `Bearer ${state.key}`,
      ...(options.body ? { 'content-type': 'application/json' } : {}),
      ...options.headers,
    },
  });
  if (response.status === 401) throw new Unauthorized('The admin key was refused');
  const body = response.headers.get('content-type')?.includes('json') ? await response.json() : null;
  if (!response.ok) {
    const error = new Error(body?.message ?? `Request failed (${response.status})`);
    error.status = response.status;
    throw error;
  }
  return body;
}

function el(tag, text, className) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  if (className) node.className = className;
  return node;
}

function formatTime(value) {
  if (!value) return '';
  return new Date(value).toLocaleString();
}

function timeElement(value) {
  const node = el('time', formatTime(value));
  if (value) node.dateTime = value;
  return node;
}

function setConnection(state_, text) {
  const node = $('connection');
  node.dataset.state = state_;
  node.textContent = text;
}

// Sign-in -------------------------------------------------------------------------
function showLogin(message) {
  stopLive();
  $('app').hidden = true;
  $('sign-out').hidden = true;
  $('login').hidden = false;
  $('key-error').textContent = message ?? '';
  setConnection('off', 'Not connected');
  $('admin-key').focus();
}

async function start() {
  try {
    await Promise.all([loadLeads(), loadStats()]);
  } catch (error) {
    if (error instanceof Unauthorized) {
      sessionStorage.removeItem(KEY_STORAGE);
      showLogin('That key was refused. Check ADMIN_API_KEY (or the key printed at first start).');
      return;
    }
    showLogin(`Could not load leads: ${error.message}`);
    return;
  }
  $('login').hidden = true;
  $('app').hidden = false;
  $('sign-out').hidden = false;
  startStream();
}

// Leads list ------------------------------------------------------------------------
function filterParams() {
  const params = new URLSearchParams();
  const form = new FormData($('filters'));
  for (const [name, value] of form) {
    if (typeof value === 'string' && value.trim() !== '') params.set(name, value.trim());
  }
  return params;
}

async function loadLeads() {
  const params = filterParams();
  params.set('limit', String(Math.max(PAGE_SIZE, state.leads.length)));
  const page = await api(`/api/admin/leads?${params}`);
  state.leads = page.items;
  state.nextCursor = page.nextCursor;
  renderLeads();
}

async function loadMore() {
  if (!state.nextCursor) return;
  const params = filterParams();
  params.set('limit', String(PAGE_SIZE));
  params.set('cursor', state.nextCursor);
  const page = await api(`/api/admin/leads?${params}`);
  state.leads = state.leads.concat(page.items);
  state.nextCursor = page.nextCursor;
  renderLeads();
}

function slaBadge(lead) {
  if (lead.firstResponseAt) return el('span', 'Responded', 'badge ok');
  if (lead.slaBreached) return el('span', 'Breached', 'badge breached');
  if (lead.slaDueAt && new Date(lead.slaDueAt) <= new Date() && lead.status === 'new') {
    return el('span', 'Overdue', 'badge breached');
  }
  return el('span', lead.slaDueAt ? `Due ${new Date(lead.slaDueAt).toLocaleTimeString()}` : '', 'badge');
}

function renderLeads() {
  const body = $('leads-body');
  const rows = state.leads.map((lead) => {
    const row = document.createElement('tr');
    row.dataset.id = lead.id;
    if (lead.id === state.selectedId) row.className = 'selected';
    row.append(el('td'));
    row.lastChild.append(timeElement(lead.createdAt));
    const nameCell = el('td');
    const open = el('button', lead.customerName || '(no name)', 'link');
    open.type = 'button';
    open.setAttribute('aria-label', `Open lead ${lead.customerName || lead.id}`);
    open.addEventListener('click', () => selectLead(lead.id));
    nameCell.append(open);
    row.append(nameCell);
    row.append(el('td', [lead.customerEmail, lead.customerPhone].filter(Boolean).join(' · ')));
    row.append(el('td', lead.intent ?? ''));
    row.append(el('td', lead.status));
    const sla = el('td');
    sla.append(slaBadge(lead));
    row.append(sla);
    return row;
  });
  body.replaceChildren(...rows);
  $('leads-empty').hidden = state.leads.length > 0;
  $('more').hidden = !state.nextCursor;
}

// Stats and the SLA banner ------------------------------------------------------------
const STAT_LABELS = [
  ['leadsToday', 'Leads today'],
  ['leadsThisWeek', 'This week'],
  ['openSlaBreaches', 'Open SLA breaches'],
  ['unprocessedEvents', 'Unprocessed events'],
  ['deadEvents', 'Dead events'],
  ['failedNotifications24h', 'Failed notifications (24 h)'],
  ['medianFirstResponseSeconds', 'Median first response'],
];

function formatSeconds(value) {
  if (value === null || value === undefined) return '–';
  if (value < 120) return `${Math.round(value)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

async function loadStats() {
  const stats = await api('/api/admin/stats');
  const items = STAT_LABELS.map(([name, label]) => {
    const wrap = el('div');
    wrap.append(el('dt', label));
    const value = name === 'medianFirstResponseSeconds' ? formatSeconds(stats[name]) : stats[name];
    wrap.append(el('dd', value));
    return wrap;
  });
  $('stats').replaceChildren(...items);
  const overdue = (stats.openSlaBreaches ?? 0) + (stats.overdueNow ?? 0);
  const banner = $('sla-banner');
  banner.hidden = overdue === 0;
  banner.textContent =
    overdue === 0
      ? ''
      : `SLA alert: ${overdue} lead${overdue === 1 ? ' is' : 's are'} overdue for first contact. Filter by "SLA: Breached" to see them.`;
}

// Lead detail ---------------------------------------------------------------------------
async function selectLead(id) {
  state.selectedId = id;
  renderLeads();
  await loadDetail();
  $('detail').hidden = false;
  $('detail-heading').focus();
}

async function loadDetail() {
  if (!state.selectedId) return;
  try {
    state.detail = await api(`/api/admin/leads/${state.selectedId}`);
  } catch (error) {
    if (error.status === 404) {
      state.selectedId = null;
      $('detail').hidden = true;
      return;
    }
    throw error;
  }
  renderDetail();
}

function renderDetail() {
  const { lead, timeline, followUps, notifications } = state.detail;
  $('detail-heading').textContent = lead.customerName || 'Lead';
  const fields = [
    ['Status', lead.status],
    ['Email', lead.customerEmail],
    ['Phone', lead.customerPhone],
    ['Intent', lead.intent],
    ['Source', lead.source],
    ['Message', lead.message],
    ['Assigned to', lead.assignedTo],
    ['Received', formatTime(lead.createdAt)],
    ['First contact due', formatTime(lead.slaDueAt)],
    [
      'SLA',
      lead.firstResponseAt
        ? `Responded ${formatTime(lead.firstResponseAt)}`
        : lead.slaBreached
          ? 'Breached'
          : 'Open',
    ],
  ];
  $('detail-fields').replaceChildren(
    ...fields.flatMap(([label, value]) => [el('dt', label), el('dd', value ?? '–')]),
  );
  $('mark-contacted').disabled = lead.status !== 'new';

  $('timeline').replaceChildren(
    ...timeline.map((entry) => {
      const item = el('li');
      item.append(timeElement(entry.createdAt));
      item.append(el('strong', entry.title));
      if (entry.details?.note) item.append(el('p', entry.details.note));
      if (entry.actor && entry.actor !== 'system') item.append(el('span', ` by ${entry.actor}`, 'help'));
      return item;
    }),
  );

  // Per channel: the latest attempt's status.
  const latest = new Map();
  for (const attempt of notifications) {
    if (!latest.has(attempt.channel)) latest.set(attempt.channel, attempt);
  }
  $('channels').replaceChildren(
    ...(latest.size === 0
      ? [el('li', 'No notification attempts yet.', 'help')]
      : [...latest.values()].map((attempt) =>
          el(
            'li',
            `${attempt.channel}: ${attempt.status}`,
            `badge ${attempt.status === 'failed' ? 'breached' : attempt.status === 'sent' ? 'ok' : ''}`,
          ),
        )),
  );
  $('attempts').replaceChildren(
    ...notifications.map((attempt) => {
      const item = el('li');
      item.append(timeElement(attempt.createdAt));
      item.append(
        el(
          'span',
          `${attempt.eventType} via ${attempt.channel}: ${attempt.status} (attempt ${attempt.attempt})${attempt.error ? ` – ${attempt.error}` : ''}`,
        ),
      );
      return item;
    }),
  );

  $('tasks').replaceChildren(
    ...followUps.map((task) => {
      const item = el('li');
      item.append(el('span', `${task.title} – ${task.status}, due ${formatTime(task.dueAt)} `));
      if (task.status === 'open') {
        const done = el('button', 'Complete', 'secondary');
        done.type = 'button';
        done.addEventListener('click', () => completeTask(task.id));
        item.append(done);
      }
      return item;
    }),
  );
}

async function markContacted() {
  const lead = state.detail?.lead;
  if (!lead) return;
  const message = $('detail-message');
  try {
    await api(`/api/admin/leads/${lead.id}`, {
      method: 'PATCH',
      body: JSON.stringify({ version: lead.version, status: 'contacted' }),
    });
    message.textContent = 'Marked contacted.';
  } catch (error) {
    message.textContent =
      error.status === 409 ? 'Someone else changed this lead; reloaded, please retry.' : error.message;
  }
  await refreshAll();
}

async function completeTask(taskId) {
  try {
    await api(`/api/admin/tasks/${taskId}/complete`, { method: 'POST', body: '{}' });
    $('detail-message').textContent = 'Task completed.';
  } catch (error) {
    $('detail-message').textContent = error.message;
  }
  await refreshAll();
}

function selectTab(tab) {
  for (const other of document.querySelectorAll('[role="tab"]')) {
    const selected = other === tab;
    other.setAttribute('aria-selected', String(selected));
    other.tabIndex = selected ? 0 : -1;
    $(other.getAttribute('aria-controls')).hidden = !selected;
  }
  tab.focus();
}

// Live updates --------------------------------------------------------------------------
async function refreshAll() {
  try {
    await Promise.all([loadLeads(), loadStats(), loadDetail()]);
  } catch (error) {
    if (error instanceof Unauthorized) showLogin('The admin key is no longer accepted.');
  }
}

/** Many notifications in a burst cause one refresh. */
function scheduleRefresh() {
  if (state.refreshTimer) return;
  state.refreshTimer = setTimeout(() => {
    state.refreshTimer = null;
    void refreshAll();
  }, 150);
}

async function startStream() {
  stopStream();
  if (typeof EventSource === 'undefined') return startPolling();
  let token;
  try {
    ({ token } = await api('/api/admin/stream-token', { method: 'POST', body: '{}' }));
  } catch {
    return startPolling();
  }
  const source = new EventSource(`/api/admin/stream?token=${encodeURIComponent(token)}`);
  state.stream = source;
  source.onmessage = (message) => {
    let data;
    try {
      data = JSON.parse(message.data);
    } catch {
      return;
    }
    if (data.kind === 'ready') {
      stopPolling();
      setConnection('live', 'Live');
      scheduleRefresh();
      return;
    }
    scheduleRefresh();
  };
  source.onerror = () => {
    // The token in the URL is short-lived, so EventSource's own reconnect would fail:
    // poll instead, and open a fresh stream later.
    stopStream();
    startPolling();
    state.streamRetryTimer = setTimeout(startStream, STREAM_RETRY_MS);
  };
}

function stopStream() {
  if (state.stream) state.stream.close();
  state.stream = null;
  clearTimeout(state.streamRetryTimer);
  state.streamRetryTimer = null;
}

function startPolling() {
  if (state.pollTimer) return;
  setConnection('polling', 'Polling every second');
  state.pollTimer = setInterval(() => void refreshAll(), POLL_MS);
}

function stopPolling() {
  clearInterval(state.pollTimer);
  state.pollTimer = null;
}

function stopLive() {
  stopStream();
  stopPolling();
}

// Wiring ----------------------------------------------------------------------------------
document.addEventListener('DOMContentLoaded', () => {
  $('login-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const key = $('admin-key').value.trim();
    if (!key) return;
    state.key = key;
    sessionStorage.setItem(KEY_STORAGE, key);
    $('admin-key').value = '';
    void start();
  });
  $('sign-out').addEventListener('click', () => {
    sessionStorage.removeItem(KEY_STORAGE);
    state.key = null;
    showLogin();
  });
  $('filters').addEventListener('submit', (event) => {
    event.preventDefault();
    state.leads = [];
    void refreshAll();
  });
  $('more').addEventListener('click', () => void loadMore());
  $('mark-contacted').addEventListener('click', () => void markContacted());
  $('export').addEventListener('click', () => void exportCsv());
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  for (const [index, tab] of tabs.entries()) {
    tab.addEventListener('click', () => selectTab(tab));
    tab.addEventListener('keydown', (event) => {
      if (event.key === 'ArrowRight') selectTab(tabs[(index + 1) % tabs.length]);
      if (event.key === 'ArrowLeft') selectTab(tabs[(index - 1 + tabs.length) % tabs.length]);
    });
  }
  if (state.key) void start();
  else showLogin();
});

/** Downloads the export with the key in a header (a plain link could not send it). */
async function exportCsv() {
  const response = await fetch(`/api/admin/leads/export.csv?${filterParams()}`, {
    headers: { authorization: `Bearer ${state.key}` },
  });
  if (!response.ok) {
    $('detail-message').textContent = `Export failed (${response.status})`;
    return;
  }
  const url = URL.createObjectURL(await response.blob());
  const link = el('a');
  link.href = url;
  link.download = `leads-${new Date().toISOString().slice(0, 10)}.csv`;
  link.click();
  URL.revokeObjectURL(url);
}
