// The console page: renders what the server says one person sees, and sends what they type and
// click. No framework: the server renders the Block Kit, this file swaps HTML and posts JSON.
'use strict';

const state = {
  as: localStorage.getItem('lifeboat.as') || 'U0ALICE',
  tab: 'channel',
  people: [],
  modalKey: null,
  refreshing: false,
  again: false,
};

const $ = (id) => document.getElementById(id);

async function post(path, body) {
  const response = await fetch(path, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  const json = await response.json().catch(() => ({}));
  if (!response.ok) throw new Error(json.error || `HTTP ${response.status}`);
  return json;
}

/** One refresh at a time; a change during one asks for another after it. */
async function refresh() {
  if (state.refreshing) {
    state.again = true;
    return;
  }
  state.refreshing = true;
  try {
    const response = await fetch(`/console/state?as=${encodeURIComponent(state.as)}`);
    if (response.ok) render(await response.json());
  } finally {
    state.refreshing = false;
    if (state.again) {
      state.again = false;
      void refresh();
    }
  }
}

function render({ people, view, infra }) {
  state.people = people;
  renderPeople();
  const messages = $('messages');
  const atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 40;
  const seenTopLevel = new Set(
    [...messages.querySelectorAll(':scope > article.message')].map((m) => m.dataset.ts),
  );
  messages.innerHTML =
    view.channel ||
    `<div class="muted empty"><p>Nothing here yet. A first failover, in five moves:</p><ol>
      <li>Type <code>/dr status</code> below: replication lag, backups, last drills.</li>
      <li>Press <strong>Simulate disaster</strong> on the right: the primary dies, the demo app goes down.</li>
      <li>Type <code>/dr failover payments-db</code> and press <strong>Start failover</strong>.</li>
      <li>Work the steps with <strong>Done</strong>. At the promotion, switch <em>You are</em> to bob and approve.</li>
      <li>Watch the standby take the writes and the thread end with the RTO.</li></ol></div>`;
  // A new thread (a run started, a reply only for you) is brought into view even when the reader
  // had scrolled up; otherwise stay at the bottom only if already there.
  const fresh = seenTopLevel.size
    ? [...messages.querySelectorAll(':scope > article.message')].find(
        (m) => !seenTopLevel.has(m.dataset.ts),
      )
    : null;
  if (fresh) fresh.scrollIntoView({ block: 'start' });
  else if (atBottom) messages.scrollTop = messages.scrollHeight;
  $('home-view').innerHTML = view.home || '<p class="muted">Opening…</p>';
  renderModal(view.modal);
  renderInfra(infra);
  document.body.dataset.version = String(view.version);
}

function renderPeople() {
  const box = $('people');
  box.innerHTML = '';
  for (const person of state.people) {
    const label = document.createElement('label');
    label.className = 'person' + (person.id === state.as ? ' current' : '');
    const input = document.createElement('input');
    input.type = 'radio';
    input.name = 'as';
    input.value = person.id;
    input.id = `as-${person.id}`;
    input.checked = person.id === state.as;
    input.addEventListener('change', () => switchTo(person.id));
    const name = document.createElement('strong');
    name.textContent = person.name;
    const role = document.createElement('span');
    role.className = 'role';
    role.textContent = person.role;
    label.append(input, name, role);
    box.append(label);
  }
}

function switchTo(id) {
  state.as = id;
  localStorage.setItem('lifeboat.as', id);
  state.modalKey = null;
  void refresh();
  if (state.tab === 'home') void openHome();
}

/** Re-rendered only when the view changed, keeping what was typed into its fields. */
function renderModal(modal) {
  const backdrop = $('modal');
  if (!modal) {
    backdrop.hidden = true;
    state.modalKey = null;
    return;
  }
  const key = `${modal.id}:${modal.hash}:${JSON.stringify(modal.errors)}`;
  if (key === state.modalKey) return;
  const content = $('modal-content');
  const typed = {};
  for (const field of content.querySelectorAll('input[name], textarea[name]'))
    typed[field.name] = field.value;
  content.innerHTML = modal.html;
  content.dataset.viewId = modal.id;
  for (const field of content.querySelectorAll('input[name], textarea[name]')) {
    if (typed[field.name] !== undefined && state.modalKey?.startsWith(modal.id))
      field.value = typed[field.name];
  }
  for (const [block, message] of Object.entries(modal.errors)) {
    const error = document.createElement('div');
    error.className = 'field-error';
    error.textContent = message;
    const field = block ? content.querySelector(`[name="${CSS.escape(block)}"]`) : null;
    if (field) field.after(error);
    else content.querySelector('form')?.prepend(error);
  }
  state.modalKey = key;
  backdrop.hidden = false;
  content.querySelector('input, textarea')?.focus();
}

function renderInfra(infra) {
  if (!infra) return;
  const server = (s, name) => {
    if (s.port === null) return 'starting…';
    const role = {
      primary: 'up, accepts writes',
      fenced: 'up, FENCED: read-only, refuses writes',
      standby: 'up, streaming standby (read-only)',
      down: 'DOWN',
    }[s.state];
    return `${name} · port ${s.port} · ${role}`;
  };
  const partitioned = infra.partitionedAt !== null;
  setStatus(
    'infra-primary',
    `${server(infra.primary, 'PostgreSQL')}${partitioned ? ' · the app cannot reach it (partition)' : ''}`,
    infra.primary.state,
  );
  setStatus('infra-standby', server(infra.standby, 'PostgreSQL'), infra.standby.state);
  const protection = infra.protection;
  if (protection) {
    const since = protection.since ? ` since ${protection.since.slice(11, 19)} UTC` : '';
    const words = {
      protected: 'protected — a standby follows the writer',
      unprotected: `UNPROTECTED${since} — no standby follows the writer`,
      'two-primaries': `TWO PRIMARIES${since} — both accept writes`,
      'no-writer': `NO WRITER${since} — nothing accepts writes`,
    };
    setStatus('infra-protection', words[protection.state], protection.state);
  }
  const app = infra.app;
  setStatus(
    'infra-app',
    app.writingTo
      ? `healthy · writing to the ${app.writingTo} · ${app.rowsWritten} payments written`
      : `DOWN · no database accepts writes${app.lastError ? ` (${app.lastError})` : ''}`,
    app.writingTo && app.healthy ? 'primary' : 'down',
  );
  const lost = infra.disasterAt ?? infra.partitionedAt;
  $('infra-disaster').textContent = lost
    ? `${infra.disasterAt ? 'primary killed' : 'the app lost the primary'} at ${lost.slice(11, 19)} UTC — to measure the RTO from it, give ${lost.slice(0, 19)}Z as the impact time`
    : 'none';
  const idle = !infra.busy && infra.ready;
  $('disaster').disabled = !idle;
  $('restore').disabled = !idle;
  $('backup').disabled = !idle;
  $('partition').disabled = !idle || infra.primary.state !== 'primary' || partitioned;
  // A planned switchover needs a standby following the writer.
  $('switchover').hidden = protection?.state !== 'protected';
  $('switchover').disabled = !idle;
  // After a failover or failback: one server writes, nothing follows it.
  $('rebuild-old-primary').hidden = protection?.state !== 'unprotected';
  $('rebuild-old-primary').disabled = !idle;
  if (infra.busy) $('infra-said').textContent = infra.busy;
}

function setStatus(id, text, status) {
  const element = $(id);
  element.textContent = text;
  element.dataset.state = status;
}

async function openHome() {
  try {
    await post('/console/home', { as: state.as });
  } catch (error) {
    $('home-view').textContent = `Could not open App Home: ${error.message}`;
  }
}

function showTab(tab) {
  state.tab = tab;
  $('channel-pane').hidden = tab !== 'channel';
  $('home-pane').hidden = tab !== 'home';
  $('nav-channel').classList.toggle('current', tab === 'channel');
  $('nav-home').classList.toggle('current', tab === 'home');
  if (tab === 'home') void openHome();
}

function fail(error) {
  $('infra-said').textContent = `The console could not do that: ${error.message}`;
}

document.addEventListener('click', (event) => {
  const nav = event.target.closest('[data-tab]');
  if (nav) return showTab(nav.dataset.tab);
  const button = event.target.closest('button[data-action-id]');
  if (!button) return;
  event.preventDefault();
  const message = button.closest('.message');
  button.disabled = true;
  button.classList.add('working');
  post('/console/click', {
    as: state.as,
    actionId: button.dataset.actionId,
    value: button.dataset.value,
    messageTs: message ? message.dataset.ts : '',
  })
    .catch(fail)
    .finally(() => {
      button.disabled = false;
      button.classList.remove('working');
    });
});

$('composer-form').addEventListener('submit', (event) => {
  event.preventDefault();
  const input = $('composer');
  const text = input.value.trim();
  if (!text) return;
  input.value = '';
  post('/console/command', { as: state.as, text }).catch(fail);
});

$('modal-content').addEventListener('submit', (event) => {
  event.preventDefault();
  const content = $('modal-content');
  const values = {};
  for (const field of content.querySelectorAll('input[name], textarea[name]'))
    values[field.name] = field.value;
  const submit = content.querySelector('button[type="submit"]');
  if (submit) submit.disabled = true;
  post('/console/submit', { as: state.as, viewId: content.dataset.viewId, values })
    .catch(fail)
    .finally(() => {
      if (submit) submit.disabled = false;
    });
});

$('modal-content').addEventListener('click', (event) => {
  if (event.target.closest('button.cancel')) post('/console/close', { as: state.as }).catch(fail);
});

document.addEventListener('keydown', (event) => {
  if (event.key === 'Escape' && !$('modal').hidden)
    post('/console/close', { as: state.as }).catch(fail);
});

// Not an infrastructure control: the switchover is asked for in the channel, as in Slack.
$('switchover').addEventListener('click', () => {
  post('/console/command', { as: state.as, text: '/dr switchover payments-db' }).catch(fail);
});

for (const [id, path] of [
  ['disaster', '/console/disaster'],
  ['partition', '/console/partition'],
  ['restore', '/console/restore'],
  ['backup', '/console/backup'],
  ['rebuild-old-primary', '/console/rebuild-old-primary'],
]) {
  $(id).addEventListener('click', () => {
    $(id).disabled = true;
    post(path, {})
      .then((answer) => ($('infra-said').textContent = answer.said))
      .catch(fail);
  });
}

const events = new EventSource('/console/events');
events.addEventListener('workspace', () => void refresh());
events.addEventListener('infra', (event) => renderInfra(JSON.parse(event.data)));
events.addEventListener('error', () => {
  $('infra-said').textContent = 'Lost the connection to lifeboat; retrying…';
});
events.addEventListener('open', () => {
  if ($('infra-said').textContent.startsWith('Lost the connection'))
    $('infra-said').textContent = '';
});

showTab('channel');
void refresh();
