// `/s/{code}`: the audience page following a session. The socket joins the session
// (JOIN_SESSION); every SESSION_STATE says which poll the host shows now, with that
// poll's snapshot, or none (the waiting screen). While a poll is shown the socket gets
// its RESULTS and POLL_UPDATED as after JOIN_POLL, and votes go out as VOTE: the poll
// view (poll-view.js) is the one `/p/{code}` uses.

import { voterSession } from './api.js';
import { byId, h, normalizeCode, setText } from './dom.js';
import { LiveRoom } from './live.js';
import { PollView, connectionWords, endedNote } from './poll-view.js';

const conn = byId('conn');
const waiting = {
  section: byId('waiting'),
  code: byId('session-code'),
  title: byId('session-title'),
  viewers: byId('session-viewers'),
};
const rawCode = decodeURIComponent(location.pathname.split('/')[2] || '');
const code = normalizeCode(rawCode);

// While the code finds no session, it is asked for again this often.
const REJOIN_MS = 3000;
let rejoinTimer = null;
let current = null; // the Session of the last SESSION_STATE

const join = () => ({ type: 'JOIN_SESSION', code, view: 'participant' });
const room = new LiveRoom({
  session: voterSession,
  sessionEnded: (ended) => view.setSessionNote(endedNote(ended)),
  join,
  onMessage,
  onStatus: (status, retryMs) => connectionWords(conn, status, retryMs),
});
const view = new PollView({
  send: (message) => room.send(message),
  voter: () => room.current,
  signedIn: () => room.connectNow(),
  // The session's snapshot carries the shown poll's: one message to resync both.
  resync: () => room.send(join()),
  pollPresence: false,
  shownCode: code,
});

function onMessage(m) {
  switch (m.type) {
    case 'SESSION_STATE':
      onSessionState(m);
      return;
    case 'PRESENCE':
      if (current && Number(m.session_id) === current.id) setViewers(m.viewers);
      return;
    case 'LEFT_SESSION':
      if (current && Number(m.session_id) === current.id) stopWith('The host ended this session.');
      return;
    case 'LEFT':
      // The shown poll was deleted: the host's next SESSION_STATE says what comes next.
      if (m.ref === null && view.ours(m.poll_id)) showWaiting();
      return;
    case 'ERROR':
      if (String(m.ref || '').startsWith('j')) {
        onJoinError(m);
        return;
      }
      break;
    default:
      break;
  }
  view.onMessage(m);
}

function onSessionState(m) {
  room.healthy();
  current = m.session;
  if (typeof m.viewers === 'number') setViewers(m.viewers);
  if (m.poll) {
    waiting.section.hidden = true;
    view.load(m);
  } else {
    showWaiting();
  }
}

function setViewers(n) {
  setText(waiting.viewers, n);
  view.setViewers(n);
}

function showWaiting() {
  view.hide();
  view.showNotice(view.sessionNote, 'warn');
  setText(waiting.code, current ? current.code : code);
  setText(waiting.title, current ? current.title : '');
  document.title = `${current ? current.title : code} – livepolls`;
  waiting.section.hidden = false;
}

function onJoinError(m) {
  if (m.code !== 'not_found') {
    view.showNotice(`Could not join the session: ${m.message}`);
    return;
  }
  view.hide();
  waiting.section.hidden = true;
  view.showNotice(`There is no session with the code ${code}. Keep this page open if the host is about to start one.`, 'warn');
  byId('notice').append(' ', h('a', { href: '/', text: 'Enter another code' }));
  clearTimeout(rejoinTimer);
  rejoinTimer = setTimeout(() => room.send(join()), REJOIN_MS);
}

function stopWith(text, withHomeLink = false) {
  room.stop();
  conn.hidden = true;
  view.hide();
  waiting.section.hidden = true;
  view.showNotice(text, 'warn');
  if (withHomeLink) byId('notice').append(' ', h('a', { href: '/', text: 'Enter another code' }));
}

if (code) {
  setText(waiting.code, code);
  room.start();
} else {
  stopWith(`“${rawCode}” is not a session code. A code has 6 letters and digits.`, true);
}
