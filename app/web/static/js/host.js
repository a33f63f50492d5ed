// `/host`: sign in, create polls, list them, open and close them, and present one:
// `#/poll/{id}` is the presenter view with the live chart, the code and a QR code,
// and a link to `/present/{code}`, the projector screen without controls.
// The account's session renews itself while the page is open (api.js), so a
// projector left on for hours keeps presenting; only a session the server ended
// (logout elsewhere, revocation) brings back the sign-in form.

import { ACCOUNT, ApiError, api, authed, describeError, loadToken, session } from './api.js';
import { mountAuth } from './auth-form.js';
import { ResultsChart } from './chart.js';
import { byId, h, setText, shortTime } from './dom.js';
import { saveDownload } from './download.js';
import { clearErrors, showErrors } from './forms.js';
import { LiveRoom } from './live.js';
import { mountSessions } from './sessions.js';

const MAX_OPTIONS = 20;
const MIN_OPTIONS = 2;

const el = {
  notice: byId('host-notice'),
  who: byId('who'),
  nav: byId('host-nav'),
  whoName: byId('who-name'),
  signOut: byId('sign-out'),
  authView: byId('auth-view'),
  dashboard: byId('dashboard'),
  present: byId('present'),
  form: byId('create-form'),
  formError: byId('create-error'),
  options: byId('f-options'),
  addOption: byId('f-add-option'),
  maxWrap: byId('f-max-wrap'),
  max: byId('f-max'),
  list: byId('poll-list'),
  listEmpty: byId('list-empty'),
  listError: byId('list-error'),
};

const accountSession = session(ACCOUNT);

function account() {
  return loadToken(ACCOUNT);
}

function notice(text, tone = 'info') {
  el.notice.textContent = text;
  el.notice.dataset.tone = tone;
  el.notice.hidden = !text;
}

/** `fn()` with the host's session: a 401 that renewal cannot cure signs the host out. */
async function signedIn(fn) {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ApiError && err.status === 401) signedOut('Your session has ended. Please sign in again.');
    throw err;
  }
}

/** A REST call with the host's session. */
function call(path, options = {}) {
  return signedIn(() => authed(ACCOUNT, path, options));
}

/** Save an export (a CSV) fetched with the host's session; resolves to its file name. */
function download(path, fallbackName) {
  return signedIn(() => saveDownload(ACCOUNT, path, fallbackName));
}

// --- signing in and out ---------------------------------------------------------------

function signedOut(message = '') {
  accountSession.clear();
  stopPresenting();
  route();
  if (message) notice(message, 'warn');
}

el.signOut.addEventListener('click', async () => {
  const token = account();
  if (token) {
    // Revokes the token everywhere; forget it locally whatever the answer.
    await api('/auth/logout', { method: 'POST', token: token.access_token }).catch(() => null);
  }
  history.replaceState(null, '', '/host');
  signedOut('You are signed out.');
});

// --- the create form --------------------------------------------------------------------

let optionSeq = 0;

function addOptionRow(value = '') {
  if (el.options.children.length >= MAX_OPTIONS) return null;
  optionSeq += 1;
  const id = `f-option-${optionSeq}`;
  const input = h('input', { id, type: 'text', maxlength: '200', value, autocomplete: 'off' });
  const row = h(
    'li',
    { class: 'option-row' },
    h('label', { for: id, class: 'visually-hidden' }),
    input,
    h('button', {
      type: 'button',
      class: 'remove',
      text: 'Remove',
      on: {
        click: () => {
          if (el.options.children.length <= MIN_OPTIONS) return;
          const next = row.nextElementSibling || row.previousElementSibling;
          row.remove();
          renumberOptions();
          if (next) next.querySelector('input').focus();
        },
      },
    }),
    h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
  );
  input.setAttribute('aria-describedby', `${id}-error`);
  el.options.append(row);
  renumberOptions();
  return input;
}

function renumberOptions() {
  const rows = [...el.options.children];
  rows.forEach((row, i) => {
    const n = i + 1;
    row.querySelector('label').textContent = `Answer ${n}`;
    const input = row.querySelector('input');
    input.dataset.field = `options[${i}]`;
    input.placeholder = `Answer ${n}`;
    row.querySelector('.field-error').dataset.errorFor = `options[${i}]`;
    const remove = row.querySelector('button.remove');
    remove.setAttribute('aria-label', `Remove answer ${n}`);
    remove.disabled = rows.length <= MIN_OPTIONS;
  });
  el.addOption.disabled = rows.length >= MAX_OPTIONS;
  el.max.max = String(rows.length);
}

el.addOption.addEventListener('click', () => {
  const input = addOptionRow();
  if (input) input.focus();
});

function kind() {
  return el.form.elements.kind.value;
}

for (const radio of el.form.querySelectorAll('input[name=kind]')) {
  radio.addEventListener('change', () => {
    el.maxWrap.hidden = kind() !== 'multiple';
  });
}

function resetForm() {
  el.form.reset();
  el.options.replaceChildren();
  addOptionRow();
  addOptionRow();
  el.maxWrap.hidden = true;
  clearErrors(el.form, el.formError);
}

function formBody(status) {
  const f = el.form.elements;
  const body = {
    question: f.question.value,
    options: [...el.options.querySelectorAll('input')].map((input) => input.value),
    kind: kind(),
    allow_change: f.allow_change.checked,
    results_visibility: f.results_visibility.value,
    require_account: f.require_account.checked,
    status,
  };
  const max = el.max.value.trim();
  if (body.kind === 'multiple' && max !== '') {
    // Not a whole number: sent as typed, so the server's 422 names the field.
    body.max_choices = /^\d+$/.test(max) ? Number(max) : max;
  }
  const closesAt = f.closes_at.value;
  if (closesAt) {
    const when = new Date(closesAt);
    body.closes_at = Number.isNaN(when.getTime()) ? closesAt : when.toISOString();
  }
  return body;
}

el.form.addEventListener('submit', async (event) => {
  event.preventDefault();
  const status = event.submitter && event.submitter.value === 'draft' ? 'draft' : 'open';
  const buttons = el.form.querySelectorAll('button[type=submit]');
  clearErrors(el.form, el.formError);
  buttons.forEach((b) => { b.disabled = true; });
  try {
    const poll = await call('/polls', { method: 'POST', body: formBody(status) });
    resetForm();
    if (poll.status === 'open') {
      location.hash = `#/poll/${poll.id}`;
    } else {
      notice(`Draft saved. Open it from “Your polls” when you are ready (code ${poll.code}).`);
      await loadPolls();
    }
  } catch (err) {
    showErrors(el.form, el.formError, err);
  } finally {
    buttons.forEach((b) => { b.disabled = false; });
  }
});

// --- the list of my polls -----------------------------------------------------------------

const STATUS_WORDS = { draft: 'Draft', open: 'Open', closed: 'Closed' };

async function changeStatus(poll, action) {
  try {
    await call(`/polls/${poll.id}/${action}`, { method: 'POST' });
    return true;
  } catch (err) {
    return err;
  }
}

function pollItem(poll) {
  const actions = [h('a', { href: `#/poll/${poll.id}`, class: 'button', text: 'Present' })];
  const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
  const act = (label, action) => h('button', {
    type: 'button',
    text: label,
    on: {
      click: async () => {
        const result = await changeStatus(poll, action);
        if (result === true) await loadPolls();
        else {
          error.textContent = describeError(result);
          error.hidden = false;
        }
      },
    },
  });
  if (poll.status === 'draft') actions.push(act('Open voting', 'open'));
  if (poll.status === 'open') actions.push(act('Close voting', 'close'));
  return h(
    'li',
    { class: 'poll-item', dataset: { pollId: String(poll.id) } },
    h(
      'div',
      { class: 'poll-item-main' },
      h('span', { class: 'q', text: poll.question }),
      h(
        'span',
        { class: 'poll-item-meta' },
        h('span', { class: 'badge', dataset: { status: poll.status }, text: STATUS_WORDS[poll.status] || poll.status }),
        h('span', { class: 'mono', text: poll.code }),
        h('span', { text: `${poll.options.length} answers` }),
        h('span', { text: shortTime(poll.created_at) }),
      ),
    ),
    h('div', { class: 'actions' }, ...actions),
    error,
  );
}

async function loadPolls() {
  el.listError.hidden = true;
  try {
    const page = await call('/polls?limit=100');
    el.list.replaceChildren(...page.items.map(pollItem));
    el.listEmpty.hidden = page.items.length > 0;
  } catch (err) {
    el.listError.textContent = describeError(err);
    el.listError.hidden = false;
  }
}

// --- presenting one poll ----------------------------------------------------------------

const p = {
  status: byId('p-status'),
  conn: byId('p-conn'),
  question: byId('p-question'),
  total: byId('p-total'),
  totalWord: byId('p-total-word'),
  viewers: byId('p-viewers'),
  link: byId('p-link'),
  code: byId('p-code'),
  qr: byId('p-qr'),
  open: byId('p-open'),
  close: byId('p-close'),
  fullscreen: byId('p-fullscreen'),
  projector: byId('p-projector'),
  error: byId('p-error'),
};
const bigChart = new ResultsChart(byId('p-chart'));
let shown = null; // {id, poll, seq, results, viewers}
let room = null;

function stopPresenting() {
  if (room) room.stop();
  room = null;
  shown = null;
  document.body.classList.remove('presenting');
}

function present(pollId) {
  stopPresenting();
  shown = { id: pollId, poll: null, seq: -1, results: null, viewers: 0 };
  document.body.classList.add('presenting');
  p.error.hidden = true;
  setText(p.question, 'Loading…');
  room = new LiveRoom({
    session: async () => accountSession,
    sessionEnded: () => signedOut('Your session has ended. Please sign in again.'),
    join: () => ({ type: 'JOIN_POLL', poll_id: pollId }),
    onMessage: onPresentMessage,
    onStatus: (status, retryMs) => {
      p.conn.dataset.state = status;
      const words = {
        live: 'Live',
        connecting: 'Connecting…',
        waiting: `Reconnecting in ${Math.max(1, Math.round((retryMs || 0) / 1000))} s…`,
      };
      setText(p.conn, words[status] || '');
    },
  });
  room.start();
}

function onPresentMessage(m) {
  if (!shown) return;
  const ours = (id) => Number(id) === shown.id;
  if (m.type === 'JOINED' && ours(m.poll.id)) {
    room.healthy();
    shown.poll = m.poll;
    shown.viewers = m.viewers;
    if (m.results) {
      shown.seq = Math.max(shown.seq, m.results.seq);
      shown.results = m.results;
    }
  } else if (m.type === 'RESULTS' && ours(m.poll_id)) {
    if (m.seq < shown.seq || m.counts === null) return;
    shown.seq = m.seq;
    shown.results = m;
  } else if (m.type === 'PRESENCE' && ours(m.poll_id)) {
    shown.viewers = m.viewers;
  } else if (m.type === 'POLL_UPDATED' && ours(m.poll.id)) {
    const before = shown.poll && shown.poll.status;
    shown.poll = m.poll;
    if (m.results && m.results.seq >= shown.seq) {
      shown.seq = m.results.seq;
      shown.results = m.results;
    } else if (m.poll.status !== before) {
      room.send({ type: 'JOIN_POLL', poll_id: shown.id });
    }
  } else if (m.type === 'ERROR' && String(m.ref || '').startsWith('j')) {
    room.stop();
    setText(p.question, m.code === 'not_found' ? 'There is no such poll.' : m.message);
    return;
  } else if (m.type === 'LEFT' && m.ref === null && ours(m.poll_id)) {
    room.stop();
    setText(p.question, 'This poll was deleted.');
    return;
  } else {
    return;
  }
  renderPresent();
}

function renderPresent() {
  const { poll, results, viewers } = shown;
  if (!poll) return;
  document.title = `${poll.code} · ${poll.question} – livepolls`;
  setText(p.question, poll.question);
  setText(p.status, STATUS_WORDS[poll.status] || poll.status);
  p.status.dataset.status = poll.status;
  const link = `${location.origin}/p/${poll.code}`;
  setText(p.link, link.replace(/^https?:\/\//, ''));
  setText(p.code, poll.code);
  const qr = `/p/${encodeURIComponent(poll.code)}/qr.svg`;
  if (p.qr.getAttribute('src') !== qr) p.qr.src = qr;
  // The room's screen in a tab of its own (signed in as this host: same storage).
  p.projector.href = `/present/${encodeURIComponent(poll.code)}`;
  bigChart.setOptions(poll.options);
  const counts = results ? results.counts : Object.fromEntries(poll.options.map((o) => [o.id, 0]));
  const total = results ? results.total : 0;
  bigChart.update(counts, total);
  setText(p.total, total);
  setText(p.totalWord, total === 1 ? 'vote' : 'votes');
  setText(p.viewers, viewers);
  p.open.hidden = poll.status !== 'draft';
  p.close.hidden = poll.status !== 'open';
}

async function presentAction(action) {
  if (!shown) return;
  p.error.hidden = true;
  const result = await changeStatus({ id: shown.id }, action);
  if (result !== true) {
    p.error.textContent = describeError(result);
    p.error.hidden = false;
  }
  // The room's POLL_UPDATED brings the new status (and the final results).
}

p.open.addEventListener('click', () => presentAction('open'));
p.close.addEventListener('click', () => presentAction('close'));
p.fullscreen.addEventListener('click', () => {
  if (document.fullscreenElement) document.exitFullscreen();
  else document.documentElement.requestFullscreen().catch(() => null);
});
document.addEventListener('fullscreenchange', () => {
  setText(p.fullscreen, document.fullscreenElement ? 'Exit full screen' : 'Full screen');
});

// --- routing ----------------------------------------------------------------------------

function route() {
  const token = account();
  el.who.hidden = !token;
  el.nav.hidden = !token;
  if (!token) sessionPages.route('');
  el.signOut.hidden = !token;
  if (!token) {
    stopPresenting();
    el.dashboard.hidden = true;
    el.present.hidden = true;
    el.authView.hidden = false;
    if (!el.authView.firstChild) {
      mountAuth(el.authView, () => {
        el.authView.replaceChildren();
        notice('');
        route();
      });
    }
    return;
  }
  setText(el.whoName, token.user ? token.user.username : '');
  el.authView.hidden = true;
  if (sessionPages.route(location.hash)) {
    stopPresenting();
    el.dashboard.hidden = true;
    el.present.hidden = true;
    return;
  }
  const match = /^#\/poll\/(\d+)$/.exec(location.hash);
  if (match) {
    el.dashboard.hidden = true;
    el.present.hidden = false;
    notice('');
    if (!shown || shown.id !== Number(match[1])) present(Number(match[1]));
  } else {
    stopPresenting();
    el.present.hidden = true;
    el.dashboard.hidden = false;
    loadPolls();
  }
}

const sessionPages = mountSessions({ call, download, accountSession, signedOut });
window.addEventListener('hashchange', route);
resetForm();
route();
