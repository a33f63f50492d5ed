// `/present/{code}`: the projector, the room's shared screen. Only the question, the
// live chart, the countdown and how to join; no account name and nothing to click,
// sized by the viewport so that it never scrolls.
//
// It joins in projector view (PROTOCOL.md JOIN_POLL `view`): the counts it gets are
// the ones the room may see, whoever's token it uses, and it is not counted among
// the viewers. The token is the host's when this browser is signed in (opened from
// the host page), else a guest's, as on the audience page.
//
// The code is a poll's or a session's (they never collide): the page tries JOIN_POLL
// first and, on not_found, JOIN_SESSION; the kind that answered is kept for every
// reconnection. A session's projector follows the host: each SESSION_STATE shows the
// poll presented now, or the waiting screen.

import { voterSession } from './api.js';
import { ResultsChart } from './chart.js';
import { Countdown, ServerClock } from './countdown.js';
import { byId, h, normalizeCode, setText } from './dom.js';
import { followBoard } from './leaderboard.js';
import { LiveRoom } from './live.js';

const el = {
  status: byId('pr-status'),
  conn: byId('pr-conn'),
  question: byId('pr-question'),
  notice: byId('pr-notice'),
  hidden: byId('pr-hidden'),
  chart: byId('pr-chart'),
  foot: byId('pr-foot'),
  total: byId('pr-total'),
  totalWord: byId('pr-total-word'),
  link: byId('pr-link'),
  code: byId('pr-code'),
  qr: byId('pr-qr'),
  board: byId('pr-board'),
  boardNote: byId('pr-board-note'),
  boardList: byId('pr-board-list'),
};
const chart = new ResultsChart(el.chart);
const clock = new ServerClock();
const countdown = new Countdown(byId('pr-countdown'), clock, { prefix: 'Voting closes in' });

const STATUS_WORDS = { draft: 'Not open yet', open: 'Voting open', closed: 'Voting closed' };
// While the code finds neither a poll nor a session, it is asked for again this often.
const REJOIN_MS = 3000;
// A closed quiz's leaderboard: this many lines.
const BOARD_LINES = 5;

const rawCode = decodeURIComponent(location.pathname.split('/')[2] || '');
const code = normalizeCode(rawCode);

const state = {
  kind: 'poll', // 'poll' | 'session': what the code is (a guess until one answers)
  found: false, // the kind is known
  session: null,
  poll: null,
  seq: -1,
  results: null, // {counts, total} | {hidden: true, total} | null (nothing yet)
};
let rejoinTimer = null;
const board = { shownFor: '', stop: null };

const room = new LiveRoom({
  session: voterSession,
  sessionEnded: () => {}, // the next connection is a guest's: a projector needs nothing more
  join: () => (state.kind === 'session'
    ? { type: 'JOIN_SESSION', code, view: 'projector' }
    : { type: 'JOIN_POLL', code, view: 'projector' }),
  onMessage,
  onStatus: (status, retryMs) => {
    el.conn.dataset.state = status;
    const words = {
      live: 'Live',
      connecting: 'Connecting…',
      waiting: `Reconnecting in ${Math.max(1, Math.round((retryMs || 0) / 1000))} s…`,
    };
    setText(el.conn, words[status] || '');
  },
});

/** Would the room see counts of `poll` now (PROTOCOL.md "Who sees counts", projector)? */
function roomSees(poll) {
  if (poll.results_hidden) return false;
  const visibility = poll.results_visibility;
  if (visibility === 'live' || visibility === 'after_vote') return true;
  return visibility === 'after_close' && poll.status === 'closed';
}

function ours(pollId) {
  return state.poll !== null && Number(pollId) === state.poll.id;
}

function resync() {
  room.send(room.join());
}

// --- messages ---------------------------------------------------------------------

function onMessage(m) {
  switch (m.type) {
    case 'JOINED':
      state.found = true;
      room.healthy();
      showPoll(m);
      break;
    case 'SESSION_STATE':
      state.found = true;
      room.healthy();
      state.session = m.session;
      if (m.poll) showPoll(m);
      else showWaiting();
      break;
    case 'RESULTS':
      if (!ours(m.poll_id) || m.seq < state.seq) return;
      state.seq = m.seq;
      state.results = m.counts === null ? { hidden: true, total: m.total } : { counts: m.counts, total: m.total };
      render();
      break;
    case 'POLL_UPDATED':
      if (m.poll && ours(m.poll.id)) onPollUpdated(m);
      break;
    case 'LEFT':
      if (m.ref === null && ours(m.poll_id)) {
        if (state.kind === 'session') showWaiting();
        else stopWith('This poll was deleted.');
      }
      break;
    case 'LEFT_SESSION':
      if (state.session && Number(m.session_id) === state.session.id) stopWith('This session has ended.');
      break;
    case 'ERROR':
      if (String(m.ref || '').startsWith('j')) onJoinError(m);
      break;
    default:
      break;
  }
}

function showPoll(m) {
  clock.sync(m.server_now);
  if (!ours(m.poll.id)) state.seq = -1;
  state.poll = m.poll;
  if (m.results) {
    state.seq = Math.max(state.seq, m.results.seq);
    state.results = { counts: m.results.counts, total: m.results.total };
  } else {
    state.results = { hidden: true, total: null };
  }
  el.notice.hidden = true;
  render();
}

function onPollUpdated(m) {
  const before = state.poll.status;
  clock.sync(m.server_now);
  state.poll = m.poll;
  if (m.results && m.results.seq >= state.seq) {
    state.seq = m.results.seq;
    state.results = { counts: m.results.counts, total: m.results.total };
  } else if (!roomSees(m.poll)) {
    state.results = { hidden: true, total: state.results ? state.results.total : null };
  } else if (m.poll.status !== before && !m.results) {
    resync(); // opened: the snapshot brings the tally
  }
  render();
}

function onJoinError(m) {
  // The server of today may not know JOIN_SESSION yet: that is "no such session" too.
  const missing = m.code === 'not_found' || m.code === 'unknown_type';
  if (!missing) {
    setText(el.question, `Cannot show this: ${m.message}`);
    return;
  }
  if (!state.found && state.kind === 'poll') {
    state.kind = 'session';
    resync();
    return;
  }
  // Neither (a draft is hidden from everyone but its host): ask again now and then.
  if (!state.found) state.kind = 'poll';
  state.poll = null;
  setText(el.question, `Nothing to show for the code ${code} yet.`);
  el.notice.hidden = false;
  setText(el.notice, 'This screen shows the poll as soon as it opens.');
  render();
  clearTimeout(rejoinTimer);
  rejoinTimer = setTimeout(resync, REJOIN_MS);
}

function stopWith(text) {
  room.stop();
  state.poll = null;
  setText(el.question, text);
  el.notice.hidden = true;
  render();
}

// --- rendering ------------------------------------------------------------------------

function renderJoin() {
  const shown = state.kind === 'session' && state.session ? state.session.code
    : (state.poll ? state.poll.code : code);
  const page = state.kind === 'session' ? 's' : 'p';
  // Two parts that wrap apart, never inside the code.
  const host = location.host;
  const path = `/${page}/${shown}`;
  if (el.link.textContent !== host + path) {
    el.link.replaceChildren(h('span', { text: host }), h('span', { text: path }));
  }
  setText(el.code, shown);
  if (!state.found) return;
  const qr = `/${page}/${encodeURIComponent(shown)}/qr.svg`;
  if (el.qr.getAttribute('src') !== qr) el.qr.src = qr;
  el.qr.hidden = false;
}

function showWaiting() {
  state.poll = null;
  state.seq = -1;
  state.results = null;
  setText(el.question, state.session ? state.session.title : '');
  el.notice.hidden = false;
  setText(el.notice, 'Waiting for the next question…');
  render();
}

function render() {
  renderJoin();
  const { poll, results } = state;
  countdown.set(poll);
  el.status.hidden = poll === null;
  el.foot.hidden = poll === null;
  if (poll === null) {
    chart.setPoll(null);
    el.hidden.hidden = true;
    document.title = `${state.session ? state.session.title : code} – livepolls`;
    syncBoard();
    return;
  }
  document.title = `${poll.code} · ${poll.question} – livepolls`;
  setText(el.question, poll.question);
  setText(el.status, STATUS_WORDS[poll.status] || poll.status);
  el.status.dataset.status = poll.status;
  chart.setPoll(poll);
  // More rows, smaller rows: the stylesheet sizes them by this count.
  el.chart.style.setProperty('--rows', String(Math.max(4, chart.rowCount)));
  const hidden = results === null || Boolean(results.hidden);
  el.chart.dataset.hidden = String(hidden);
  chart.update(hidden ? null : results.counts, hidden ? 0 : results.total);
  el.hidden.hidden = !hidden;
  setText(el.hidden, hiddenWords(poll));
  const total = results ? results.total : null;
  el.foot.hidden = total === null || total === undefined;
  setText(el.total, total ?? 0);
  setText(el.totalWord, total === 1 ? 'vote' : 'votes');
  syncBoard();
}

/** The leaderboard under a closed quiz: the session's (every quiz so far) on a session's
 * screen, else the quiz's own; followed while its scores are pending. */
function syncBoard() {
  const { poll } = state;
  const wanted = poll !== null && poll.kind === 'quiz' && poll.status === 'closed';
  // Asked again when the answer key is fixed after the reveal: the scores move.
  const key = wanted ? `${poll.id}:${poll.options.map((o) => o.correct).join()}` : '';
  if (key === board.shownFor) return;
  board.shownFor = key;
  if (board.stop) board.stop();
  board.stop = null;
  el.board.hidden = !wanted;
  el.boardList.replaceChildren();
  setText(el.boardNote, '');
  if (!wanted) return;
  const path = state.kind === 'session' && state.session
    ? `/sessions/${state.session.id}/leaderboard` : `/polls/${poll.id}/leaderboard`;
  voterSession().then((who) => {
    if (board.shownFor === key) board.stop = followBoard(who.key, `${path}?limit=${BOARD_LINES}`, drawBoard, { atOnce: true });
  }, () => {}); // no session to ask with: the chart stays, without a board
}

function drawBoard(got) {
  setText(el.boardNote, got.pending.length ? 'Counting the scores…' : (got.total ? '' : 'Nobody scored yet.'));
  el.boardList.replaceChildren(...got.entries.map((e) => h(
    'li',
    {},
    h('span', { class: 'rank', text: `${e.rank}.` }),
    h('span', { class: 'name', text: e.name }),
    h('span', { class: 'pts', text: `${e.points.toLocaleString('en')} pts` }),
  )));
}

function hiddenWords(poll) {
  if (poll.results_hidden) return 'Results hidden';
  if (poll.results_visibility === 'after_close' && poll.status !== 'closed') return 'Results are shown when voting closes';
  return 'Results are not shown on this screen';
}

if (code) {
  renderJoin();
  room.start();
} else {
  setText(el.question, `“${rawCode}” is not a join code. A code has 6 letters and digits.`);
  el.conn.hidden = true;
}
