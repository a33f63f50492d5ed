// `/host`: sign in, and the host's pages: `#/` the poll form (poll-form.js; at
// `#/edit/{id}` it edits a draft) and the list of polls (poll-list.js); `#/poll/{id}`
// the presenter view with the live chart, the code and a QR code, a link to
// `/present/{code}` (the projector screen without controls) and, below, "Manage this
// poll" (manage.js); `#/sessions` and `#/session/{id}` (sessions.js).
// The account's session renews itself while the page is open (api.js), so a
// projector left on for hours keeps presenting; only a session the server ended
// (logout elsewhere, revocation) brings back the sign-in form.

import { ACCOUNT, ApiError, api, authed, describeError, loadToken, session } from './api.js';
import { mountAuth } from './auth-form.js';
import { ResultsChart } from './chart.js';
import { byId, setText } from './dom.js';
import { saveDownload } from './download.js';
import { LiveRoom } from './live.js';
import { PollManage } from './manage.js';
import { PollForm } from './poll-form.js';
import { PollList, STATUS_WORDS } from './poll-list.js';
import { mountSessions } from './sessions.js';

const el = {
  notice: byId('host-notice'),
  who: byId('who'),
  nav: byId('host-nav'),
  whoName: byId('who-name'),
  signOut: byId('sign-out'),
  authView: byId('auth-view'),
  dashboard: byId('dashboard'),
  present: byId('present'),
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

// --- presenting one poll ----------------------------------------------------------------

async function changeStatus(poll, action) {
  try {
    await call(`/polls/${poll.id}/${action}`, { method: 'POST' });
    return true;
  } catch (err) {
    return err;
  }
}

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
  manageGo: byId('p-manage-go'),
  projector: byId('p-projector'),
  error: byId('p-error'),
};
const bigChart = new ResultsChart(byId('p-chart'));
const manage = new PollManage({ call, download });
let shown = null; // {id, poll, seq, results, viewers}
let room = null;

function stopPresenting() {
  if (room) room.stop();
  room = null;
  shown = null;
  manage.hide();
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
  bigChart.setPoll(poll);
  const counts = results ? results.counts : {}; // none yet: every count is 0
  const total = results ? results.total : 0;
  bigChart.update(counts, total);
  setText(p.total, total);
  setText(p.totalWord, total === 1 ? 'vote' : 'votes');
  setText(p.viewers, viewers);
  p.open.hidden = poll.status !== 'draft';
  p.close.hidden = poll.status !== 'open';
  manage.show(poll, results);
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

p.manageGo.addEventListener('click', () => manage.reach());
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
    const edit = /^#\/edit\/(\d+)$/.exec(location.hash);
    if (edit) pollForm.edit(Number(edit[1]));
    else pollForm.leaveEdit();
    pollList.load();
  }
}

const pollList = new PollList({ call, notice });
const pollForm = new PollForm({ call, notice, changed: () => pollList.load() });
const sessionPages = mountSessions({ call, download, accountSession, signedOut });
window.addEventListener('hashchange', route);
route();
