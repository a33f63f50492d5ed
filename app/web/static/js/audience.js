// `/p/{code}`: the audience page of one poll. A guest session of its own (or the
// signed-in account's), the room over WebSocket, and the poll view (poll-view.js:
// one-tap votes, live results, the countdown).
//
// The guest is this browser's voter for as long as its session lives: the session
// renews itself (api.js) and survives reloads, so the same phone is the same voter.
// A new guest is made only when there is no session to renew (storage cleared, or
// the server ended it), and the page says so.

import { voterSession } from './api.js';
import { byId, h, normalizeCode, setText } from './dom.js';
import { LiveRoom } from './live.js';
import { PollView, connectionWords, endedNote } from './poll-view.js';

const conn = byId('conn');
const rawCode = decodeURIComponent(location.pathname.split('/')[2] || '');
const code = normalizeCode(rawCode);

// While the code finds no open poll, it is asked for again this often.
const REJOIN_MS = 3000;
let rejoinTimer = null;

const room = new LiveRoom({
  session: voterSession,
  sessionEnded: (ended) => view.setSessionNote(endedNote(ended)),
  join: () => ({ type: 'JOIN_POLL', code }),
  onMessage,
  onStatus: (status, retryMs) => connectionWords(conn, status, retryMs),
});
const view = new PollView({
  send: (message) => room.send(message),
  voter: () => room.current,
  signedIn: () => room.connectNow(),
  resync: () => room.send({ type: 'JOIN_POLL', poll_id: view.poll.id }),
});

function onMessage(m) {
  if (m.type === 'JOINED') room.healthy();
  if (m.type === 'ERROR' && String(m.ref || '').startsWith('j')) {
    onJoinError(m);
    return;
  }
  if (m.type === 'LEFT') {
    // Not asked for: the room is gone because the host deleted the poll.
    if (m.ref === null && view.ours(m.poll_id)) stopWith('The host removed this poll.');
    return;
  }
  view.onMessage(m);
}

function onJoinError(m) {
  if (m.code !== 'not_found') {
    view.showNotice(`Could not join the poll: ${m.message}`);
    return;
  }
  // A draft is hidden from everyone but its host, so "no such poll" may mean "not
  // opened yet": say both, and ask again now and then until it opens.
  byId('poll').hidden = true;
  view.showNotice(`There is no open poll with the code ${code}. If the host has not opened it yet, keep this page open: it joins as soon as voting starts.`, 'warn');
  byId('notice').append(' ', h('a', { href: '/', text: 'Enter another code' }));
  clearTimeout(rejoinTimer);
  rejoinTimer = setTimeout(() => room.send(room.join()), REJOIN_MS);
}

function stopWith(text, withHomeLink = false) {
  room.stop();
  conn.hidden = true;
  view.hide();
  view.showNotice(text, 'warn');
  if (withHomeLink) byId('notice').append(' ', h('a', { href: '/', text: 'Enter another code' }));
}

if (code) {
  setText(byId('code'), code);
  room.start();
} else {
  stopWith(`“${rawCode}” is not a poll code. A code has 6 letters and digits.`, true);
}
