// The host's sessions (PROTOCOL.md "Sessions (events)"): `#/sessions` lists, creates
// and deletes them; `#/session/{id}` is the control view of a talk, live over the
// WebSocket session room. The control view is also the phone remote: every device
// with it open joins the same room, and the server sends each one SESSION_STATE on
// every change, whichever device made it, so no device trusts its own copy of the
// session for longer than a request's round trip.
//
// host.js owns sign-in and routing; it hands this module its REST helper (`call`,
// which signs the host out on a 401 that renewal cannot cure) and `download`
// (download.js, for the session's results.csv), and asks it, on every hash change,
// whether the route is one of ours.

import { describeError } from './api.js';
import { ResultsChart } from './chart.js';
import { confirmButton } from './confirm.js';
import { byId, h, setText, shortTime } from './dom.js';
import { busy, clearErrors, showErrors } from './forms.js';
import { LiveRoom } from './live.js';
import { Pager } from './paging.js';
import { STATUS_WORDS } from './poll-list.js';

const POLLS_PAGE = 100;

/**
 * The error in plain words. A 404 here may be a session or a poll, so the server's own
 * message says which (describeError's plain words speak of polls only).
 */
function explain(err) {
  if (err && err.code === 'not_found' && err.message) {
    return err.message.charAt(0).toUpperCase() + err.message.slice(1) + (err.message.endsWith('.') ? '' : '.');
  }
  return describeError(err);
}

/** A list item's question, status and code, shared by the pickers and the control view. */
function pollSummary(poll) {
  return h(
    'span',
    { class: 'sp-main' },
    h('span', { class: 'q', text: poll ? poll.question : 'Loading…' }),
    poll
      ? h(
        'span',
        { class: 'poll-item-meta' },
        h('span', { class: 'badge', dataset: { status: poll.status }, text: STATUS_WORDS[poll.status] || poll.status }),
        h('span', { class: 'mono', text: poll.code }),
      )
      : null,
  );
}

/** The host's own polls, newest first (every page of GET /polls). */
async function ownPolls(call) {
  const items = [];
  for (let offset = 0; ; offset += POLLS_PAGE) {
    const page = await call(`/polls?limit=${POLLS_PAGE}&offset=${offset}`);
    items.push(...page.items);
    if (page.items.length < POLLS_PAGE || items.length >= page.total) return items;
  }
}

// --- #/sessions -----------------------------------------------------------------------

class SessionList {
  constructor(call) {
    this.call = call;
    this.root = byId('sessions-view');
    this.form = byId('sn-form');
    this.formError = byId('sn-error');
    this.titleInput = byId('sn-title-input');
    this.chosenList = byId('sn-chosen');
    this.chosenEmpty = byId('sn-chosen-empty');
    this.available = byId('sn-available');
    this.availableEmpty = byId('sn-available-empty');
    this.search = byId('sl-search');
    this.q = byId('sl-q');
    this.list = byId('sl-list');
    this.empty = byId('sl-empty');
    this.error = byId('sl-error');
    this.prev = byId('sl-prev');
    this.next = byId('sl-next');
    this.range = byId('sl-range');
    this.query = '';
    this.polls = []; // own polls in no session: the picker's choices
    this.chosen = []; // ids picked, in order

    this.form.addEventListener('submit', (event) => {
      event.preventDefault();
      this.create();
    });
    this.search.addEventListener('submit', (event) => {
      event.preventDefault();
      this.query = this.q.value.trim();
      this.pager.first();
    });
    this.pager = new Pager({
      prev: this.prev,
      next: this.next,
      range: this.range,
      fetchPage: (params) => {
        this.error.hidden = true;
        if (this.query) params.set('q', this.query);
        return this.call(`/sessions?${params}`);
      },
      draw: (page) => {
        this.list.replaceChildren(...page.items.map((s) => this.item(s)));
        this.empty.hidden = page.items.length > 0;
        this.empty.textContent = this.query ? `No session title contains “${this.query}”.` : 'No sessions yet.';
      },
      failed: (err) => {
        this.error.textContent = describeError(err);
        this.error.hidden = false;
      },
    });
  }

  show() {
    this.root.hidden = false;
    this.load();
    this.loadPolls();
  }

  hide() {
    this.root.hidden = true;
  }

  load() {
    return this.pager.load();
  }

  item(s) {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const remove = confirmButton({
      label: 'Delete',
      question: 'Delete this session? Its polls stay.',
      yes: 'Yes, delete',
      act: async () => {
        const done = await busy([], error, async () => {
          await this.call(`/sessions/${s.id}`, { method: 'DELETE' });
          return true;
        }, explain);
        if (done) {
          this.load();
          this.loadPolls(); // its polls are free again
        }
        return done;
      },
    });
    const n = s.poll_ids.length;
    return h(
      'li',
      { class: 'poll-item', dataset: { sessionId: String(s.id) } },
      h(
        'div',
        { class: 'poll-item-main' },
        h('span', { class: 'q', text: s.title }),
        h(
          'span',
          { class: 'poll-item-meta' },
          h('span', { class: 'mono', text: s.code }),
          h('span', { text: `${n} ${n === 1 ? 'poll' : 'polls'}` }),
          h('span', { text: shortTime(s.created_at) }),
        ),
      ),
      h(
        'div',
        { class: 'actions' },
        h('a', { href: `#/session/${s.id}`, class: 'button', text: 'Control' }),
        remove,
      ),
      error,
    );
  }

  async loadPolls() {
    try {
      const polls = await ownPolls(this.call);
      this.polls = polls.filter((p) => p.session_id === null || p.session_id === undefined);
      const free = new Set(this.polls.map((p) => p.id));
      this.chosen = this.chosen.filter((id) => free.has(id));
      this.renderPicker();
    } catch (err) {
      this.formError.textContent = describeError(err);
      this.formError.hidden = false;
    }
  }

  renderPicker() {
    const byPollId = new Map(this.polls.map((p) => [p.id, p]));
    const chosen = new Set(this.chosen);
    this.chosenList.replaceChildren(
      ...this.chosen.map((id, i) => {
        const poll = byPollId.get(id);
        const move = (delta) => {
          const j = i + delta;
          [this.chosen[i], this.chosen[j]] = [this.chosen[j], this.chosen[i]];
          this.renderPicker();
        };
        return h(
          'li',
          { class: 'sp-item', dataset: { pollId: String(id) } },
          pollSummary(poll),
          h(
            'span',
            { class: 'sp-actions' },
            h('button', { type: 'button', text: '↑', 'aria-label': `Move “${poll.question}” up`, disabled: i === 0, on: { click: () => move(-1) } }),
            h('button', { type: 'button', text: '↓', 'aria-label': `Move “${poll.question}” down`, disabled: i === this.chosen.length - 1, on: { click: () => move(1) } }),
            h('button', {
              type: 'button',
              text: 'Remove',
              'aria-label': `Remove “${poll.question}”`,
              on: {
                click: () => {
                  this.chosen.splice(i, 1);
                  this.renderPicker();
                },
              },
            }),
          ),
        );
      }),
    );
    this.chosenEmpty.hidden = this.chosen.length > 0;
    const rest = this.polls.filter((p) => !chosen.has(p.id));
    this.available.replaceChildren(
      ...rest.map((poll) => h(
        'li',
        { class: 'sp-item', dataset: { pollId: String(poll.id) } },
        pollSummary(poll),
        h(
          'span',
          { class: 'sp-actions' },
          h('button', {
            type: 'button',
            text: 'Add',
            'aria-label': `Add “${poll.question}”`,
            on: {
              click: () => {
                this.chosen.push(poll.id);
                this.renderPicker();
              },
            },
          }),
        ),
      )),
    );
    this.availableEmpty.hidden = rest.length > 0;
  }

  async create() {
    clearErrors(this.form, this.formError);
    const submit = this.form.querySelector('button[type=submit]');
    submit.disabled = true;
    try {
      const created = await this.call('/sessions', {
        method: 'POST',
        body: { title: this.titleInput.value, poll_ids: this.chosen },
      });
      this.form.reset();
      this.chosen = [];
      location.hash = `#/session/${created.id}`;
    } catch (err) {
      showErrors(this.form, this.formError, err);
      this.loadPolls(); // a poll may have joined another session meanwhile
    } finally {
      submit.disabled = false;
    }
  }
}

// --- #/session/{id} -------------------------------------------------------------------

class SessionControl {
  constructor({ call, download, accountSession, signedOut }) {
    this.call = call;
    this.download = download;
    this.accountSession = accountSession;
    this.signedOut = signedOut;
    const ids = [
      'session-control', 'sc-title', 'sc-conn', 'sc-viewers', 'sc-gone', 'sc-status', 'sc-hidden',
      'sc-countdown', 'sc-q', 'sc-chart', 'sc-total', 'sc-total-word', 'sc-total-line',
      'sc-poll-actions', 'sc-hide', 'sc-reveal', 'sc-cd30', 'sc-cd60', 'sc-close', 'sc-error',
      'sc-polls', 'sc-polls-empty', 'sc-link', 'sc-code', 'sc-qr-slot', 'sc-projector', 'sc-prev',
      'sc-wait', 'sc-next', 'sc-csv', 'sc-csv-note',
    ];
    this.el = Object.fromEntries(ids.map((id) => [id.replace(/^sc-/, '').replace(/-(\w)/g, (_, c) => c.toUpperCase()), byId(id)]));
    this.root = this.el.sessionControl;
    this.chart = new ResultsChart(this.el.chart);
    this.id = null;
    this.room = null;
    this.reset();

    const e = this.el;
    e.prev.addEventListener('click', () => this.present(e.prev, { step: 'previous' }));
    e.next.addEventListener('click', () => this.present(e.next, { step: 'next' }));
    e.wait.addEventListener('click', () => this.present(e.wait, { poll_id: null }));
    e.hide.addEventListener('click', () => this.pollAction(e.hide, 'hide'));
    e.reveal.addEventListener('click', () => this.pollAction(e.reveal, 'reveal'));
    e.cd30.addEventListener('click', () => this.pollAction(e.cd30, 'countdown', { seconds: 30 }));
    e.cd60.addEventListener('click', () => this.pollAction(e.cd60, 'countdown', { seconds: 60 }));
    e.close.addEventListener('click', () => this.pollAction(e.close, 'close'));
    e.csv.addEventListener('click', () => this.saveResults());
  }

  /** The session's results.csv (every poll of it, in order), saved as a file. */
  async saveResults() {
    const id = this.id;
    if (id === null) return;
    this.el.csvNote.hidden = true;
    const name = await busy(this.el.csv, this.el.error, () => this.download(
      `/sessions/${id}/results.csv`, `session-${id}-results.csv`,
    ), explain);
    if (name && id === this.id) {
      setText(this.el.csvNote, `Saved ${name}.`);
      this.el.csvNote.hidden = false;
    }
  }

  reset() {
    this.session = null;
    this.polls = new Map(); // id → Poll, as last heard (REST or the room)
    this.results = null; // Results of the poll shown (the owner sees counts even when hidden)
    this.viewers = 0;
    this.offsetMs = 0; // server clock − this device's clock
    this.pending = 0; // requests running: the remote's buttons stay disabled meanwhile
    this.fetching = new Set();
    this.listKey = '';
    this.refocus = null;
    clearInterval(this.ticker);
    this.ticker = null;
  }

  show(id) {
    this.root.hidden = false;
    document.body.classList.add('session-remote');
    if (this.id === id && this.room) return;
    this.stop();
    this.id = id;
    this.el.gone.hidden = true;
    this.el.error.hidden = true;
    this.el.csvNote.hidden = true;
    setText(this.el.title, 'Loading…');
    this.room = new LiveRoom({
      session: async () => this.accountSession,
      sessionEnded: () => this.signedOut('Your session has ended. Please sign in again.'),
      join: () => ({ type: 'JOIN_SESSION', session_id: id }),
      onMessage: (m) => this.onMessage(m),
      onStatus: (status, retryMs) => {
        this.el.conn.dataset.state = status;
        const words = {
          live: 'Live',
          connecting: 'Connecting…',
          waiting: `Reconnecting in ${Math.max(1, Math.round((retryMs || 0) / 1000))} s…`,
        };
        setText(this.el.conn, words[status] || '');
      },
    });
    this.room.start();
  }

  hide() {
    this.root.hidden = true;
    document.body.classList.remove('session-remote');
    this.el.qrSlot.replaceChildren();
    this.stop();
  }

  stop() {
    if (this.room) this.room.stop();
    this.room = null;
    this.id = null;
    this.reset();
  }

  gone(text) {
    if (this.room) this.room.stop();
    this.el.gone.textContent = text;
    this.el.gone.hidden = false;
    this.session = null;
    this.render();
  }

  /** Take a Session (from the room or a REST reply) unless an older one than ours. */
  takeSession(s) {
    if (!s || s.id !== this.id) return false;
    if (this.session && s.version < this.session.version) return false;
    this.session = s;
    for (const pollId of s.poll_ids) if (!this.polls.has(pollId)) this.fetchPoll(pollId);
    return true;
  }

  takeResults(results) {
    if (!results) return;
    const current = this.session && this.session.current_poll_id;
    if (results.poll_id !== current) return;
    if (this.results && this.results.poll_id === current && results.seq < this.results.seq) return;
    if (results.counts === null || results.counts === undefined) return;
    this.results = results;
  }

  async fetchPoll(pollId) {
    if (this.fetching.has(pollId)) return;
    this.fetching.add(pollId);
    const { polls } = this; // this view's: a later session starts a new map
    try {
      const body = await this.call(`/polls/${pollId}`);
      if (polls !== this.polls) return;
      if (!polls.has(pollId)) polls.set(pollId, body.poll);
      this.render();
    } catch {
      // Shown as "Loading…"; the next SESSION_STATE tries again.
    } finally {
      this.fetching.delete(pollId);
    }
  }

  clock(serverNow) {
    if (typeof serverNow === 'number') this.offsetMs = serverNow - Date.now();
  }

  onMessage(m) {
    if (m.type === 'SESSION_STATE') {
      const me = this.accountSession.token;
      if (me && me.user && m.session && m.session.owner_id !== me.user.id) {
        // Anyone may follow a session; only its owner controls it.
        this.gone('This session belongs to another host.');
        return;
      }
      if (!this.takeSession(m.session)) return;
      this.room.healthy();
      this.clock(m.server_now);
      this.viewers = m.viewers;
      if (m.poll) this.polls.set(m.poll.id, m.poll);
      if (!this.results || this.results.poll_id !== m.session.current_poll_id) this.results = null;
      this.takeResults(m.results);
    } else if (m.type === 'RESULTS') {
      this.takeResults(m);
    } else if (m.type === 'POLL_UPDATED') {
      this.polls.set(m.poll.id, m.poll);
      this.clock(m.server_now);
      this.takeResults(m.results);
    } else if (m.type === 'PRESENCE' && m.session_id === this.id) {
      this.viewers = m.viewers;
    } else if (m.type === 'LEFT_SESSION' && m.ref === null && m.session_id === this.id) {
      this.gone('This session was deleted.');
      return;
    } else if (m.type === 'ERROR' && String(m.ref || '').startsWith('j')) {
      if (m.code === 'not_found') {
        this.gone('There is no such session.');
      } else {
        // Transient (the server's Redis or database away): join again after a backoff.
        this.el.error.textContent = m.message;
        this.el.error.hidden = false;
        this.room.detach(4000, 'rejoin');
        this.room.retry();
      }
      return;
    } else {
      return;
    }
    this.render();
  }

  /** A request from a button: the button (and the remote) disabled while it runs. */
  async run(button, fn) {
    this.pending += 1;
    this.render();
    try {
      return await busy(button, this.el.error, fn, explain);
    } finally {
      this.pending -= 1;
      this.render();
    }
  }

  present(button, body) {
    return this.run(button, async () => {
      this.takeSession(await this.call(`/sessions/${this.id}/present`, { method: 'POST', body }));
    });
  }

  pollAction(button, action, body) {
    const pollId = this.session && this.session.current_poll_id;
    if (!pollId) return undefined;
    return this.run(button, async () => {
      const reply = await this.call(`/polls/${pollId}/${action}`, { method: 'POST', body });
      // close answers {poll, results}; the others the Poll.
      const poll = reply.poll || reply;
      this.polls.set(poll.id, poll);
      if (reply.results) this.takeResults(reply.results);
    });
  }

  reorder(button, from, to) {
    const ids = [...this.session.poll_ids];
    [ids[from], ids[to]] = [ids[to], ids[from]];
    return this.run(button, async () => {
      this.takeSession(await this.call(`/sessions/${this.id}`, { method: 'PATCH', body: { poll_ids: ids } }));
    });
  }

  render() {
    const e = this.el;
    const s = this.session;
    const idle = this.pending === 0 && s !== null && this.room !== null;
    if (!s) {
      for (const b of [e.prev, e.next, e.wait]) b.disabled = true;
      e.pollActions.hidden = true;
      return;
    }
    document.title = `${s.title} · session – livepolls`;
    setText(e.title, s.title);
    setText(e.viewers, this.viewers);
    setText(e.code, s.code);
    const link = `${location.origin}/s/${s.code}`;
    setText(e.link, link.replace(/^https?:\/\//, ''));
    e.link.href = link;
    e.projector.href = `/present/${encodeURIComponent(s.code)}`;
    this.showQr(`/s/${encodeURIComponent(s.code)}/qr.svg`);

    const currentId = s.current_poll_id;
    const index = currentId === null ? -1 : s.poll_ids.indexOf(currentId);
    const poll = currentId === null ? null : this.polls.get(currentId) || null;
    // Server rules (present): `next` from the waiting screen resumes, so only the
    // ends of the list are known to fail; the server's 409 covers the rest.
    e.prev.disabled = !idle || index === 0 || s.poll_ids.length === 0;
    e.next.disabled = !idle || index === s.poll_ids.length - 1 || s.poll_ids.length === 0;
    e.wait.disabled = !idle || currentId === null;

    if (currentId === null) {
      e.status.hidden = true;
      e.hidden.hidden = true;
      e.countdown.hidden = true;
      setText(e.q, 'Waiting screen: no poll is shown.');
      this.chart.setPoll(null);
      e.totalLine.hidden = true;
      e.pollActions.hidden = true;
    } else if (poll) {
      e.status.hidden = false;
      setText(e.status, STATUS_WORDS[poll.status] || poll.status);
      e.status.dataset.status = poll.status;
      e.hidden.hidden = !poll.results_hidden;
      setText(e.q, poll.question);
      this.chart.setPoll(poll);
      const results = this.results && this.results.poll_id === poll.id ? this.results : null;
      const counts = results ? results.counts : {}; // none yet: every count is 0
      const total = results ? results.total : 0;
      this.chart.update(counts, total);
      e.totalLine.hidden = false;
      setText(e.total, total);
      setText(e.totalWord, total === 1 ? 'vote' : 'votes');
      e.pollActions.hidden = false;
      e.hide.hidden = poll.results_hidden;
      e.reveal.hidden = !poll.results_hidden;
      const open = poll.status === 'open';
      e.cd30.hidden = !open;
      e.cd60.hidden = !open;
      e.close.hidden = !open;
      for (const b of [e.hide, e.reveal, e.cd30, e.cd60, e.close]) b.disabled = !idle;
      this.tick(poll);
    } else {
      setText(e.q, 'Loading…');
    }

    this.renderPolls(idle);
  }

  /**
   * The join QR, made only while the view is shown (the page has no hidden pictures
   * otherwise). The QR route may not resolve a session's code: then it is left out.
   */
  showQr(src) {
    const slot = this.el.qrSlot;
    const img = slot.firstElementChild;
    if (img && img.getAttribute('src') === src) return;
    const qr = h('img', { class: 'qr sc-qr', alt: 'QR code of the join link', src, hidden: true });
    qr.addEventListener('load', () => { qr.hidden = false; });
    qr.addEventListener('error', () => qr.remove());
    slot.replaceChildren(qr);
  }

  /** "Closes in 27 s", by the server's clock, while the poll has a closes_at ahead. */
  tick(poll) {
    const e = this.el;
    const update = () => {
      const shown = this.session && this.polls.get(this.session.current_poll_id);
      const at = shown && shown.status === 'open' && shown.closes_at ? Date.parse(shown.closes_at) : NaN;
      if (Number.isNaN(at)) {
        e.countdown.hidden = true;
        clearInterval(this.ticker);
        this.ticker = null;
        return;
      }
      const left = Math.max(0, Math.ceil((at - (Date.now() + this.offsetMs)) / 1000));
      e.countdown.hidden = false;
      setText(e.countdown, left > 0 ? `Closes in ${left} s` : 'Closing…');
    };
    update();
    if (poll.closes_at && this.ticker === null && !e.countdown.hidden) this.ticker = setInterval(update, 250);
  }

  /**
   * The ordered list, rebuilt only when what it shows changed (not on every tally), and
   * keeping the keyboard's place: the focused button's twin gets the focus back, once
   * it is enabled again after its request.
   */
  renderPolls(idle) {
    const e = this.el;
    const s = this.session;
    const n = s.poll_ids.length;
    e.pollsEmpty.hidden = n > 0;
    const key = JSON.stringify([idle, s.current_poll_id, s.poll_ids.map((id) => {
      const poll = this.polls.get(id);
      return poll ? [id, poll.question, poll.status, poll.code] : [id];
    })]);
    if (key === this.listKey) return;
    this.listKey = key;
    const focused = document.activeElement;
    if (focused && e.polls.contains(focused) && focused.dataset.act) {
      this.refocus = { act: focused.dataset.act, pollId: focused.closest('li').dataset.pollId };
    }
    e.polls.replaceChildren(
      ...s.poll_ids.map((pollId, i) => {
        const poll = this.polls.get(pollId) || null;
        const current = pollId === s.current_poll_id;
        const label = poll ? `“${poll.question}”` : `poll ${i + 1}`;
        const up = h('button', { type: 'button', text: '↑', 'aria-label': `Move ${label} up`, disabled: !idle || i === 0, dataset: { act: 'up' } });
        const down = h('button', { type: 'button', text: '↓', 'aria-label': `Move ${label} down`, disabled: !idle || i === n - 1, dataset: { act: 'down' } });
        const show = h('button', {
          type: 'button',
          dataset: { act: 'show' },
          text: current ? 'Shown' : 'Present',
          'aria-label': current ? `${label} is shown` : `Present ${label}`,
          disabled: !idle || current,
        });
        up.addEventListener('click', () => this.reorder(up, i, i - 1));
        down.addEventListener('click', () => this.reorder(down, i, i + 1));
        show.addEventListener('click', () => this.present(show, { poll_id: pollId }));
        return h(
          'li',
          {
            class: current ? 'sp-item is-current' : 'sp-item',
            dataset: { pollId: String(pollId) },
            'aria-current': current ? 'true' : null,
          },
          h('span', { class: 'sp-pos num', text: String(i + 1) }),
          pollSummary(poll),
          h('span', { class: 'sp-actions' }, show, up, down),
        );
      }),
    );
    if (this.refocus && idle) {
      const { act, pollId } = this.refocus;
      this.refocus = null;
      const twin = e.polls.querySelector(`li[data-poll-id="${pollId}"] [data-act="${act}"]`);
      if (twin && !twin.disabled) twin.focus();
    }
  }
}

/**
 * The sessions pages. `route(hash)` shows the page of `hash` and returns true when it
 * is one of ours, else hides them (and leaves the room) and returns false.
 */
export function mountSessions({ call, download, accountSession, signedOut }) {
  const list = new SessionList(call);
  const control = new SessionControl({ call, download, accountSession, signedOut });
  return {
    route(hash) {
      const one = /^#\/session\/(\d+)$/.exec(hash || '');
      if (one) {
        list.hide();
        control.show(Number(one[1]));
        return true;
      }
      control.hide();
      if (hash === '#/sessions') {
        list.show();
        return true;
      }
      list.hide();
      return false;
    },
  };
}
