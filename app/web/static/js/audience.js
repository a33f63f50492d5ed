// `/p/{code}`: the audience page. A guest session of its own (or the signed-in
// account's), the room over WebSocket, one-tap votes, live results.
//
// The guest is this browser's voter for as long as its session lives: the session
// renews itself (api.js) and survives reloads, so the same phone is the same voter.
// A new guest is made only when there is no session to renew (storage cleared, or
// the server ended it), and the page says so.
//
// The page state survives reconnections: what is ticked but not submitted stays
// ticked, a vote sent but not acknowledged is sent again once JOINED shows it was not
// counted (the same ballot twice is harmless: `unchanged`), and JOINED's full
// snapshot replaces whatever was missed while away.

import { GUEST, voterSession } from './api.js';
import { ResultsChart } from './chart.js';
import { byId, h, normalizeCode, setText, shortTime } from './dom.js';
import { LiveRoom } from './live.js';

const el = {
  conn: byId('conn'),
  notice: byId('notice'),
  poll: byId('poll'),
  code: byId('code'),
  viewers: byId('viewers'),
  question: byId('question'),
  instructions: byId('instructions'),
  ballot: byId('ballot'),
  choices: byId('choices'),
  choiceCount: byId('choice-count'),
  submit: byId('submit'),
  voteState: byId('vote-state'),
  results: byId('results'),
  resultsTitle: byId('results-title'),
  resultsNote: byId('results-note'),
  total: byId('total'),
  totalWord: byId('total-word'),
};
const chart = new ResultsChart(byId('chart'));

const rawCode = decodeURIComponent(location.pathname.split('/')[2] || '');
const code = normalizeCode(rawCode);

const state = {
  poll: null,
  results: null, // null (draft) | {hidden: true, total} | {counts, total}
  seq: -1, // the highest results seq shown
  myVote: null, // option ids of my counted ballot
  pending: null, // {ref, ids}: sent (or waiting for a connection), not acknowledged
  selection: new Set(), // multiple choice: ticked, not necessarily submitted
  viewers: 0,
  note: null, // {tone: 'ok' | 'warn', text}: the outcome of my last vote
  choicesKey: '',
  sessionNote: '', // why this page's voter changed, if it did
};

// While the code finds no open poll, it is asked for again this often.
const REJOIN_MS = 3000;
let rejoinTimer = null;
const room = new LiveRoom({
  session: voterSession,
  sessionEnded(ended) {
    // The server refused to renew it: the next connection is a new guest.
    state.sessionNote = ended.key === GUEST
      ? 'Your earlier session has ended, so you continue as a new guest.'
      : 'Your account session has ended, so you continue as a guest. Sign in on the home page to vote with your account.';
    showNotice(state.sessionNote, 'warn');
  },
  join: () => ({ type: 'JOIN_POLL', code }),
  onMessage,
  onStatus,
});

function sameSet(a, b) {
  if (!a || !b) return false;
  const left = new Set(a.map(Number));
  return left.size === b.length && b.every((id) => left.has(Number(id)));
}

function ours(pollId) {
  return state.poll !== null && Number(pollId) === state.poll.id;
}

// --- messages ---------------------------------------------------------------------

function onMessage(m) {
  switch (m.type) {
    case 'JOINED':
      onJoined(m);
      break;
    case 'RESULTS':
      if (ours(m.poll_id)) onResults(m);
      break;
    case 'PRESENCE':
      if (ours(m.poll_id)) {
        state.viewers = m.viewers;
        setText(el.viewers, m.viewers);
      }
      break;
    case 'POLL_UPDATED':
      if (m.poll && ours(m.poll.id)) onPollUpdated(m);
      break;
    case 'VOTE_ACK':
      onVoteAck(m);
      break;
    case 'ERROR':
      onError(m);
      break;
    case 'LEFT':
      // Not asked for: the room is gone because the host deleted the poll.
      if (m.ref === null && ours(m.poll_id)) stopWith('The host removed this poll.');
      break;
    default:
      break;
  }
}

function onJoined(m) {
  room.healthy();
  const first = state.poll === null;
  state.poll = m.poll;
  state.viewers = m.viewers;
  state.myVote = m.my_vote;
  if (m.results) {
    state.seq = Math.max(state.seq, m.results.seq);
    state.results = { counts: m.results.counts, total: m.results.total };
  } else {
    state.results = m.poll.status === 'draft' ? null : { hidden: true, total: null };
  }
  const locked = !(m.poll.allow_change && m.poll.status === 'open');
  if (state.myVote && (first || locked)) {
    // A ballot that can no longer change is what the boxes show; otherwise an
    // unsubmitted selection survives the reconnection.
    state.selection = new Set(state.myVote.map(Number));
  }
  if (state.pending) {
    if (sameSet(state.myVote, state.pending.ids)) {
      state.pending = null;
      state.note = { tone: 'ok', text: 'Your vote is counted.' };
    } else if (state.poll.status === 'open') {
      sendVote(state.pending.ids);
    } else {
      state.pending = null;
    }
  }
  render();
}

function onResults(m) {
  // Coalesced tallies may overtake each other across a reconnection: older is stale.
  if (m.seq < state.seq) return;
  state.seq = m.seq;
  state.results = m.counts === null
    ? { hidden: true, total: m.total }
    : { counts: m.counts, total: m.total };
  renderResults();
}

function onPollUpdated(m) {
  const before = state.poll.status;
  state.poll = m.poll;
  if (m.results && m.results.seq >= state.seq) {
    state.seq = m.results.seq;
    state.results = { counts: m.results.counts, total: m.results.total };
  }
  if (m.poll.status !== before && !m.results) {
    // Opened (or closed with results hidden from me): JOINED brings the full picture.
    room.send({ type: 'JOIN_POLL', poll_id: m.poll.id });
  }
  render();
}

function onVoteAck(m) {
  if (!state.pending || m.ref !== state.pending.ref) return;
  state.myVote = state.pending.ids;
  state.pending = null;
  const text = {
    accepted: 'Your vote is counted.',
    changed: 'Your vote was changed.',
    unchanged: 'You already voted for this; your vote is counted.',
  }[m.status] || 'Your vote is counted.';
  state.note = { tone: 'ok', text };
  if (state.poll.kind === 'multiple') state.selection = new Set(state.myVote);
  render();
}

function onError(m) {
  const ref = typeof m.ref === 'string' ? m.ref : '';
  if (ref.startsWith('j')) {
    if (m.code === 'not_found') {
      // A draft is hidden from everyone but its host, so "no such poll" may mean "not
      // opened yet": say both, and ask again now and then until it opens.
      el.poll.hidden = true;
      showNotice(`There is no open poll with the code ${code}. If the host has not opened it yet, keep this page open: it joins as soon as voting starts.`, 'warn');
      el.notice.append(' ', h('a', { href: '/', text: 'Enter another code' }));
      clearTimeout(rejoinTimer);
      rejoinTimer = setTimeout(() => room.send(room.join()), REJOIN_MS);
    } else {
      showNotice(`Could not join the poll: ${m.message}`);
    }
    return;
  }
  if (!state.pending || ref !== state.pending.ref) return;
  state.pending = null;
  const max = state.poll ? state.poll.max_choices : 1;
  const texts = {
    already_voted: 'You have already voted in this poll, and votes cannot be changed.',
    poll_not_open: 'Voting is not open, so your vote was not counted.',
    account_required: 'Only signed-in users can vote in this poll. Sign in on the home page, then come back.',
    too_many_choices: `Pick at most ${max} answers.`,
    invalid_option: 'That answer is not in the poll any more.',
    rate_limited: 'Slow down a little, then try again.',
  };
  state.note = { tone: 'warn', text: texts[m.code] || `Your vote was not counted: ${m.message}` };
  if (['already_voted', 'poll_not_open', 'invalid_option'].includes(m.code)) {
    // Learn what is actually counted for me (and the poll's current state).
    room.send({ type: 'JOIN_POLL', poll_id: state.poll.id });
  }
  render();
}

function onStatus(status, retryMs) {
  el.conn.dataset.state = status;
  if (status === 'live') setText(el.conn, 'Live');
  else if (status === 'connecting') setText(el.conn, 'Connecting…');
  else if (status === 'waiting') {
    setText(el.conn, `Connection lost. Reconnecting in ${Math.max(1, Math.round(retryMs / 1000))} s…`);
  } else setText(el.conn, 'Disconnected');
}

// --- voting ---------------------------------------------------------------------------

function canVote() {
  const poll = state.poll;
  return poll !== null && poll.status === 'open' && (!state.myVote || poll.allow_change);
}

function sendVote(ids) {
  const ref = room.send({ type: 'VOTE', poll_id: state.poll.id, option_ids: ids });
  // Not connected: JOINED will send it once the connection is back.
  state.pending = { ref, ids };
  state.note = ref
    ? { tone: 'ok', text: 'Sending your vote…' }
    : { tone: 'warn', text: 'Not connected: your vote will be sent when the connection is back.' };
}

function vote(ids) {
  if (!canVote() || state.pending) return;
  sendVote(ids);
  render();
}

el.ballot.addEventListener('submit', (event) => {
  event.preventDefault();
  if (state.poll && state.poll.kind === 'multiple' && state.selection.size > 0) {
    vote([...state.selection]);
  }
});

// --- rendering ------------------------------------------------------------------------

function showNotice(text, tone = 'info') {
  el.notice.textContent = text;
  el.notice.dataset.tone = tone;
  el.notice.hidden = !text;
}

function stopWith(text, withHomeLink = false) {
  room.stop();
  el.conn.hidden = true;
  el.poll.hidden = true;
  showNotice(text, 'warn');
  if (withHomeLink) el.notice.append(' ', h('a', { href: '/', text: 'Enter another code' }));
}

function buildChoices(poll) {
  const key = `${poll.kind}|${poll.options.map((o) => `${o.id}:${o.label}`).join('\n')}`;
  if (key === state.choicesKey) return;
  state.choicesKey = key;
  if (poll.kind === 'single') {
    el.choices.replaceChildren(
      ...poll.options.map((option) => h(
        'button',
        {
          type: 'button',
          class: 'choice',
          'aria-pressed': 'false',
          dataset: { optionId: String(option.id) },
          on: { click: () => vote([option.id]) },
        },
        h('span', { class: 'check', 'aria-hidden': 'true', text: '✓' }),
        h('span', { class: 'label', text: option.label }),
      )),
    );
  } else {
    el.choices.replaceChildren(
      ...poll.options.map((option) => {
        const box = h('input', {
          type: 'checkbox',
          value: String(option.id),
          dataset: { optionId: String(option.id) },
          on: {
            change: (event) => {
              if (event.target.checked) state.selection.add(option.id);
              else state.selection.delete(option.id);
              render();
            },
          },
        });
        return h('label', { class: 'choice' }, box, h('span', { class: 'label', text: option.label }));
      }),
    );
  }
}

function renderChoices() {
  const poll = state.poll;
  const open = canVote();
  const mine = new Set((state.myVote || []).map(Number));
  if (poll.kind === 'single') {
    for (const button of el.choices.querySelectorAll('button.choice')) {
      const id = Number(button.dataset.optionId);
      button.setAttribute('aria-pressed', String(mine.has(id)));
      button.classList.toggle('is-pending', Boolean(state.pending && state.pending.ids.includes(id)));
      button.disabled = !open;
      button.setAttribute('aria-disabled', String(!open || Boolean(state.pending)));
    }
    el.submit.hidden = true;
    setText(el.choiceCount, '');
    return;
  }
  const max = poll.max_choices;
  const full = state.selection.size >= max;
  for (const box of el.choices.querySelectorAll('input[type=checkbox]')) {
    const id = Number(box.value);
    box.checked = state.selection.has(id);
    box.disabled = !open || (full && !box.checked);
    box.closest('.choice').classList.toggle('is-mine', mine.has(id));
  }
  el.submit.hidden = false;
  setText(el.submit, state.myVote ? 'Change vote' : 'Submit vote');
  el.submit.disabled = !open || Boolean(state.pending) || state.selection.size === 0
    || sameSet(state.myVote, [...state.selection]);
  setText(el.choiceCount, open ? `${state.selection.size} of at most ${max} picked` : '');
}

function instructions() {
  const poll = state.poll;
  if (poll.status !== 'open') return '';
  const parts = [poll.kind === 'single'
    ? 'Tap one answer.'
    : `Pick up to ${poll.max_choices} answer${poll.max_choices === 1 ? '' : 's'}, then submit.`];
  if (poll.allow_change) parts.push('You can change your vote until voting closes.');
  if (poll.closes_at) parts.push(`Voting closes at ${shortTime(poll.closes_at)}.`);
  return parts.join(' ');
}

function renderNotice() {
  const status = state.poll.status;
  if (status === 'draft') {
    showNotice('This poll has not started yet. Keep this page open: voting starts here as soon as the host opens it.');
  } else if (status === 'closed') {
    showNotice('Voting has closed.', 'closed');
  } else if (state.sessionNote) {
    showNotice(state.sessionNote, 'warn');
  } else {
    showNotice('');
  }
}

function renderVoteState() {
  let note = state.note;
  if (!note && state.myVote) {
    note = { tone: 'ok', text: state.poll.allow_change && state.poll.status === 'open'
      ? 'You have voted. You can still change your vote.'
      : 'You have voted.' };
  }
  el.voteState.hidden = !note;
  if (note) {
    setText(el.voteState, note.text);
    el.voteState.dataset.tone = note.tone;
  }
}

function renderResults() {
  const poll = state.poll;
  const results = state.results;
  el.results.hidden = results === null;
  if (results === null) return;
  chart.setOptions(poll.options);
  chart.markMine(state.myVote);
  const hidden = Boolean(results.hidden);
  byId('chart').hidden = hidden;
  setText(el.resultsTitle, poll.status === 'closed' && !hidden ? 'Final results' : 'Results');
  let note = '';
  if (hidden) {
    note = poll.results_visibility === 'after_close' && poll.status !== 'closed'
      ? 'Results are shown here when voting closes.'
      : 'Only the host sees the results of this poll.';
  } else {
    chart.update(results.counts, results.total);
  }
  el.resultsNote.hidden = !note;
  setText(el.resultsNote, note);
  const total = results.total;
  el.total.parentElement.hidden = total === null || total === undefined;
  setText(el.total, total ?? 0);
  setText(el.totalWord, total === 1 ? 'vote' : 'votes');
}

function render() {
  const poll = state.poll;
  if (poll === null) return;
  document.title = `${poll.question} – livepolls`;
  el.poll.hidden = false;
  setText(el.code, poll.code);
  setText(el.viewers, state.viewers);
  setText(el.question, poll.question);
  setText(el.instructions, instructions());
  el.instructions.hidden = el.instructions.textContent === '';
  renderNotice();
  buildChoices(poll);
  renderChoices();
  renderVoteState();
  renderResults();
}

if (code) {
  setText(el.code, code);
  room.start();
} else {
  el.conn.hidden = true;
  stopWith(`“${rawCode}” is not a poll code. A code has 6 letters and digits.`, true);
}
