// The audience's view of one poll: the question, the ballot, live results and the
// countdown. What the ballot looks like (one tap, ticks, a scale, a ranking) is the
// poll's kind's (kinds/index.js); this view keeps the state every kind shares. Used
// by `/p/{code}` (one poll) and `/s/{code}` (whichever poll the session's host
// shows); the page owns the socket and hands the view its messages.
//
// The state survives reconnections: what is picked but not submitted stays picked, a
// vote sent but not acknowledged is sent again once the snapshot (JOINED, or a
// session's SESSION_STATE) shows it was not counted (the same ballot twice is
// harmless: `unchanged`), and the snapshot replaces whatever was missed while away.
//
// A poll with `require_account` shown to a guest says so before any tap: the answers
// are disabled, with the reason and a way to sign in or create an account right there
// (auth-form.js). On success the page reconnects as the account (a new socket: AUTH only
// takes a token of the same user) and the view starts afresh from the new snapshot.

import { GUEST } from './api.js';
import { mountAuth } from './auth-form.js';
import { ResultsChart } from './chart.js';
import { Countdown, ServerClock } from './countdown.js';
import { byId, setText, shortTime } from './dom.js';
import { kindOf } from './kinds/index.js';
import { followBoard } from './leaderboard.js';

export class PollView {
  /**
   * Binds to the page's `#poll` section (poll.html and session.html share its markup).
   * @param {object} o
   * @param {(message: object) => string | null} o.send  the room's send (returns the ref)
   * @param {() => void} o.resync  ask the server for a fresh snapshot of this poll
   * @param {boolean} [o.pollPresence]  count viewers from the poll's PRESENCE (a session
   *   page counts the session's instead)
   * @param {string | null} [o.shownCode]  the join code to show (a session's), else the poll's
   * @param {() => object | null} [o.voter]  the api.js Session the page votes with now
   *   (null: not known yet); a GUEST one sees the accounts-only notice
   * @param {() => void} [o.signedIn]  the visitor signed in from that notice: the page
   *   reconnects as the account
   */
  constructor({
    send, resync, pollPresence = true, shownCode = null, voter = () => null, signedIn = () => {},
  }) {
    this.send = send;
    this.voter = voter;
    this.signedIn = signedIn;
    this.shownCode = shownCode;
    this.resync = resync;
    this.pollPresence = pollPresence;
    this.el = {
      notice: byId('notice'),
      poll: byId('poll'),
      code: byId('code'),
      viewers: byId('viewers'),
      question: byId('question'),
      instructions: byId('instructions'),
      countdown: byId('countdown'),
      gate: byId('account-gate'),
      gateOpen: byId('account-gate-open'),
      gateAuth: byId('account-auth'),
      ballot: byId('ballot'),
      choicesSet: byId('choices-set'),
      choices: byId('choices'),
      choiceCount: byId('choice-count'),
      submit: byId('submit'),
      voteState: byId('vote-state'),
      results: byId('results'),
      resultsTitle: byId('results-title'),
      resultsNote: byId('results-note'),
      chart: byId('chart'),
      total: byId('total'),
      totalWord: byId('total-word'),
    };
    this.chart = new ResultsChart(this.el.chart);
    this.clock = new ServerClock();
    this.countdown = new Countdown(this.el.countdown, this.clock);
    this.sessionNote = ''; // why this page's voter changed, if it did
    this.reset();
    this.el.ballot.addEventListener('submit', (event) => {
      event.preventDefault();
      const { poll, picks } = this.state;
      if (poll && this.kind.ready(poll, picks)) this.vote([...picks]);
    });
    this.el.gateOpen.addEventListener('click', () => this.toggleAuth());
  }

  // --- accounts only ------------------------------------------------------------------

  /** A guest looking at a poll only accounts may vote in (nothing to say once closed). */
  gated() {
    const poll = this.state.poll;
    const voter = this.voter();
    return poll !== null && Boolean(poll.require_account) && poll.status !== 'closed'
      && voter !== null && voter.key === GUEST;
  }

  toggleAuth() {
    const { gateAuth, gateOpen } = this.el;
    const open = gateAuth.hidden;
    if (open && !gateAuth.firstChild) {
      mountAuth(gateAuth, () => this.afterSignIn(), { registerTitle: 'Create an account' });
    }
    gateAuth.hidden = !open;
    gateOpen.setAttribute('aria-expanded', String(open));
    if (open) gateAuth.querySelector('input').focus();
  }

  afterSignIn() {
    // Nothing of the guest carries over: the account's snapshot says what is counted.
    this.closeAuth();
    this.el.gate.hidden = true;
    this.reset();
    this.signedIn();
  }

  closeAuth() {
    this.el.gateAuth.replaceChildren();
    this.el.gateAuth.hidden = true;
    this.el.gateOpen.setAttribute('aria-expanded', 'false');
  }

  renderGate() {
    const gated = this.gated();
    if (!gated && !this.el.gate.hidden) this.closeAuth();
    this.el.gate.hidden = !gated;
    if (gated) this.el.choicesSet.setAttribute('aria-describedby', 'account-gate-text');
    else this.el.choicesSet.removeAttribute('aria-describedby');
  }

  /** Forget the poll (a session moved on to another one, or to the waiting screen). */
  reset() {
    this.state = {
      poll: null,
      results: null, // null (draft) | {hidden: true, total} | {counts, total}
      seq: -1, // the highest results seq shown
      myVote: null, // my counted ballot, as my_vote has it (kinds/index.js)
      pending: null, // {ref, ids}: a ballot sent (or waiting for a connection), not acknowledged
      picks: [], // a ballot being made (ticks, a ranking so far), not necessarily submitted
      viewers: this.state ? this.state.viewers : 0,
      note: null, // {tone: 'ok' | 'warn', text}: the outcome of my last vote
    };
    this.choicesKey = '';
    this.countdown.set(null);
    this.followScore(null);
  }

  /**
   * A closed, scored poll (a quiz) I voted in: my points in it, and in its session so
   * far, from the leaderboards, once final. `key` names what is followed ('' or null:
   * nothing); each new one stops the last.
   */
  followScore(key) {
    if (this.score && this.score.key === key) return;
    if (this.score) this.score.stops.forEach((stop) => stop());
    this.score = key ? { key, stops: [], poll: null, session: null } : null;
    if (!key) return;
    const who = this.voter();
    const { poll } = this.state;
    if (!who) return;
    const follow = (path, part) => this.score.stops.push(followBoard(who.key, `${path}/leaderboard?limit=1`, (board) => {
      this.score[part] = board.pending.length ? null : board.me;
      this.renderNotice();
    }));
    follow(`/polls/${poll.id}`, 'poll');
    if (poll.session_id) follow(`/sessions/${poll.session_id}`, 'session');
  }

  scoreWords() {
    const s = this.score;
    if (!s || !s.poll) return '';
    const mine = `+${s.poll.points.toLocaleString('en')} pts.`;
    if (!s.session) return mine;
    return `${mine} ${s.session.points.toLocaleString('en')} pts in all, rank ${s.session.rank}.`;
  }

  get poll() {
    return this.state.poll;
  }

  /** The component of the shown poll's kind. */
  get kind() {
    return kindOf(this.state.poll.kind);
  }

  hide() {
    this.reset();
    this.el.poll.hidden = true;
  }

  ours(pollId) {
    return this.state.poll !== null && Number(pollId) === this.state.poll.id;
  }

  showNotice(text, tone = 'info') {
    this.el.notice.textContent = text;
    this.el.notice.dataset.tone = tone;
    this.el.notice.hidden = !text;
  }

  setSessionNote(text) {
    this.sessionNote = text;
    this.showNotice(text, 'warn');
  }

  setViewers(n) {
    this.state.viewers = n;
    setText(this.el.viewers, n);
  }

  /**
   * Handle a message about the shown poll; returns false when it is not one (the page
   * handles it). LEFT (the host deleted the poll) is the page's to handle too.
   */
  onMessage(m) {
    switch (m.type) {
      case 'JOINED':
        this.load(m);
        return true;
      case 'RESULTS':
        if (this.ours(m.poll_id)) this.onResults(m);
        return true;
      case 'PRESENCE':
        if (m.poll_id === undefined || !this.pollPresence) return false;
        if (this.ours(m.poll_id)) this.setViewers(m.viewers);
        return true;
      case 'POLL_UPDATED':
        if (m.poll && this.ours(m.poll.id)) this.onPollUpdated(m);
        return true;
      case 'VOTE_ACK':
        this.onVoteAck(m);
        return true;
      case 'ERROR':
        return this.onVoteError(m);
      default:
        return false;
    }
  }

  /** A full snapshot: `{poll, results, my_vote, viewers, server_now}` (JOINED's fields). */
  load(m) {
    if (this.state.poll !== null && this.state.poll.id !== m.poll.id) this.reset();
    const s = this.state;
    const first = s.poll === null;
    this.clock.sync(m.server_now);
    s.poll = m.poll;
    if (typeof m.viewers === 'number') s.viewers = m.viewers;
    s.myVote = m.my_vote;
    if (m.results) {
      s.seq = Math.max(s.seq, m.results.seq);
      s.results = { counts: m.results.counts, total: m.results.total };
    } else {
      s.results = m.poll.status === 'draft' ? null : { hidden: true, total: null };
    }
    const locked = !(m.poll.allow_change && m.poll.status === 'open');
    if (s.myVote && (first || locked)) {
      // A ballot that can no longer change is what the controls show; otherwise
      // unsubmitted picks survive the reconnection.
      s.picks = s.myVote.map(Number);
    }
    if (s.pending) {
      if (this.kind.same(s.myVote, s.pending.ids)) {
        s.pending = null;
        s.note = { tone: 'ok', text: 'Your vote is counted.' };
      } else if (s.poll.status === 'open') {
        this.sendVote(s.pending.ids);
      } else {
        s.pending = null;
      }
    }
    this.render();
  }

  onResults(m) {
    const s = this.state;
    // Coalesced tallies may overtake each other across a reconnection: older is stale.
    if (m.seq < s.seq) return;
    s.seq = m.seq;
    s.results = m.counts === null ? { hidden: true, total: m.total } : { counts: m.counts, total: m.total };
    this.renderResults();
  }

  onPollUpdated(m) {
    const s = this.state;
    const before = s.poll.status;
    this.clock.sync(m.server_now);
    s.poll = m.poll;
    if (m.results && m.results.seq >= s.seq) {
      s.seq = m.results.seq;
      s.results = { counts: m.results.counts, total: m.results.total };
    } else if (!m.results && m.poll.results_hidden && s.results) {
      // Hidden now: the hide's POLL_UPDATED carries no results, and the counts shown
      // until then must go with it (no RESULTS may follow until the next vote).
      s.results = { hidden: true, total: s.results.total };
    }
    if (m.poll.status !== before && !m.results) {
      // Opened (or closed with results hidden from me): the snapshot brings the full picture.
      this.resync();
    }
    this.render();
  }

  onVoteAck(m) {
    const s = this.state;
    if (!s.pending || m.ref !== s.pending.ref) return;
    s.myVote = s.pending.ids;
    s.pending = null;
    const text = {
      accepted: 'Your vote is counted.',
      changed: 'Your vote was changed.',
      unchanged: 'You already voted for this; your vote is counted.',
    }[m.status] || 'Your vote is counted.';
    s.note = { tone: 'ok', text };
    s.picks = s.myVote.map(Number);
    this.render();
  }

  /** An ERROR answering my vote; false for any other ERROR. */
  onVoteError(m) {
    const s = this.state;
    const ref = typeof m.ref === 'string' ? m.ref : '';
    if (!s.pending || ref !== s.pending.ref) return false;
    s.pending = null;
    const texts = {
      already_voted: 'You have already voted in this poll, and votes cannot be changed.',
      poll_not_open: 'Voting is not open, so your vote was not counted.',
      account_required: 'Only signed-in users can vote in this poll. Sign in or create an account above to vote.',
      invalid_option: 'That answer is not in the poll any more.',
      wrong_ballot: 'The poll changed its kind of question: your vote was not counted.',
      rate_limited: 'Slow down a little, then try again.',
      ...(s.poll ? this.kind.errors(s.poll) : {}),
    };
    s.note = { tone: 'warn', text: texts[m.code] || `Your vote was not counted: ${m.message}` };
    if (['already_voted', 'poll_not_open', 'invalid_option', 'wrong_ballot'].includes(m.code)) {
      // Learn what is actually counted for me (and the poll's current state).
      this.resync();
    }
    this.render();
    return true;
  }

  // --- voting -------------------------------------------------------------------------

  canVote() {
    const poll = this.state.poll;
    return poll !== null && poll.status === 'open' && (!this.state.myVote || poll.allow_change)
      && !this.gated();
  }

  sendVote(ids) {
    const ref = this.send({ type: 'VOTE', poll_id: this.state.poll.id, ...this.kind.message(ids) });
    // Not connected: the next snapshot sends it once the connection is back.
    this.state.pending = { ref, ids };
    this.state.note = ref
      ? { tone: 'ok', text: 'Sending your vote…' }
      : { tone: 'warn', text: 'Not connected: your vote will be sent when the connection is back.' };
  }

  vote(ids) {
    if (!this.canVote() || this.state.pending) return;
    this.sendVote(ids);
    this.render();
  }

  // --- rendering ----------------------------------------------------------------------

  buildChoices(poll) {
    const key = JSON.stringify([
      poll.id, poll.kind, poll.max_choices, poll.scale, poll.low_label, poll.high_label, poll.options,
    ]);
    if (key === this.choicesKey) return;
    this.choicesKey = key;
    this.kind.build(this);
  }

  renderChoices() {
    const { state } = this;
    // Closed: picks never submitted go, the controls show the ballot that counted.
    if (state.poll.status === 'closed' && !this.kind.same(state.myVote, state.picks)) {
      state.picks = (state.myVote || []).map(Number);
    }
    this.kind.render(this);
  }

  instructions() {
    const poll = this.state.poll;
    if (poll.status !== 'open' || this.gated()) return '';
    const voted = Boolean(this.state.myVote);
    // After a vote that cannot change, the vote state says it all: nothing left to tap.
    if (voted && !poll.allow_change) return poll.closes_at ? `Voting closes at ${shortTime(poll.closes_at)}.` : '';
    const parts = [this.kind.instructions(poll, voted)];
    if (poll.allow_change && !voted) parts.push('You can change your vote until voting closes.');
    if (poll.closes_at) parts.push(`Voting closes at ${shortTime(poll.closes_at)}.`);
    return parts.join(' ');
  }

  renderNotice() {
    const { poll, myVote } = this.state;
    const status = poll.status;
    // Followed afresh when the answer key is fixed after the reveal: the scores move.
    const key = `${poll.id}:${poll.options.map((o) => o.correct).join()}`;
    this.followScore(status === 'closed' && this.kind.scored && myVote ? key : null);
    if (status === 'draft') {
      this.showNotice('This poll has not started yet. Keep this page open: voting starts here as soon as the host opens it.');
    } else if (status === 'closed') {
      const words = ['Voting has closed.', this.kind.verdict(poll, myVote), this.scoreWords()];
      this.showNotice(words.filter(Boolean).join(' '), 'closed');
    } else if (this.sessionNote) {
      this.showNotice(this.sessionNote, 'warn');
    } else {
      this.showNotice('');
    }
  }

  renderVoteState() {
    const { el, state } = this;
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

  renderResults() {
    const { el, state, chart } = this;
    const poll = state.poll;
    const results = state.results;
    el.results.hidden = results === null;
    if (results === null) return;
    chart.setPoll(poll);
    chart.markMine(state.myVote);
    const hidden = Boolean(results.hidden);
    el.chart.hidden = hidden;
    setText(el.resultsTitle, poll.status === 'closed' && !hidden ? 'Final results' : 'Results');
    let note = '';
    if (hidden) {
      chart.update(null, 0); // no count left behind in the hidden chart either
      if (poll.results_hidden) note = 'The host has hidden the results for now.';
      else if (poll.results_visibility === 'after_close' && poll.status !== 'closed') note = 'Results are shown here when voting closes.';
      else if (poll.results_visibility === 'after_vote' && poll.status !== 'closed') note = 'Results are shown here once you have voted.';
      else note = 'Only the host sees the results of this poll.';
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

  render() {
    const { el, state } = this;
    const poll = state.poll;
    if (poll === null) return;
    document.title = `${poll.question} – livepolls`;
    el.poll.hidden = false;
    setText(el.code, this.shownCode || poll.code);
    setText(el.viewers, state.viewers);
    setText(el.question, poll.question);
    setText(el.instructions, this.instructions());
    el.instructions.hidden = el.instructions.textContent === '';
    this.countdown.set(poll);
    this.renderNotice();
    this.renderGate();
    this.buildChoices(poll);
    this.renderChoices();
    this.renderVoteState();
    this.renderResults();
  }
}

/** Why a page's voter changed when the server ended its session (api.js GUEST/ACCOUNT). */
export function endedNote(ended) {
  return ended.key === GUEST
    ? 'Your earlier session has ended, so you continue as a new guest.'
    : 'Your account session has ended, so you continue as a guest. Sign in on the home page to vote with your account.';
}

/** The connection state in words, on the page's `#conn`. */
export function connectionWords(conn, status, retryMs) {
  conn.dataset.state = status;
  if (status === 'live') setText(conn, 'Live');
  else if (status === 'connecting') setText(conn, 'Connecting…');
  else if (status === 'waiting') {
    setText(conn, `Connection lost. Reconnecting in ${Math.max(1, Math.round(retryMs / 1000))} s…`);
  } else setText(conn, 'Disconnected');
}
