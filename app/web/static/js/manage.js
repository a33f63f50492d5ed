// "Manage this poll", under the host's presenter view (`#/poll/{id}`): what a host
// does to one poll besides presenting it. A draft links to its editor; an open or
// closed poll gets its wording fixed (PATCH /polls/{id} with the question and the
// labels only: same number of answers, in order, so no ballot changes; which labels a
// poll has is its kind's, kinds/index.js), its results
// hidden or revealed, and its results and ballots downloaded as CSV; a closed poll is
// reopened, or has its results reset after a confirmation.
//
// The presenter view stays the source of truth: every change here reaches it (and
// every audience) as the room's POLL_UPDATED, so this module only sends requests and
// shows their failures. host.js hands it `call` (REST with the host's session) and
// `download` (download.js with the same session), and calls `show(poll, results)` on
// every render of the view.

import { confirmButton } from './confirm.js';
import { byId, h, setText } from './dom.js';
import { busy, clearErrors, showErrors } from './forms.js';
import { kindOf } from './kinds/index.js';

export class PollManage {
  constructor({ call, download }) {
    this.call = call;
    this.download = download;
    this.el = {
      root: byId('p-manage'),
      error: byId('pm-error'),
      note: byId('pm-note'),
      actions: byId('pm-actions'),
      wording: byId('pm-wording'),
    };
    this.poll = null;
    this.results = null;
    this.key = '';
    this.form = null; // the open "Fix wording" form, if any
  }

  /** The poll shown (and its results, for the reset's question). */
  show(poll, results) {
    const changedPoll = !this.poll || this.poll.id !== poll.id;
    this.poll = poll;
    this.results = results;
    if (changedPoll) this.clear();
    this.el.root.hidden = false;
    const key = `${poll.id}|${poll.status}|${poll.results_hidden}`;
    if (key === this.key) return;
    this.key = key;
    if (poll.status === 'draft' && this.form) this.closeWording();
    this.renderActions();
  }

  /** Scroll down to the section (below the room's screen) and into its first control. */
  reach() {
    this.el.root.scrollIntoView({ block: 'start' });
    const first = this.el.actions.querySelector('button, a');
    if (first) first.focus({ preventScroll: true });
  }

  /** Leave the view: nothing of this poll stays behind. */
  hide() {
    this.el.root.hidden = true;
    this.poll = null;
    this.results = null;
    this.clear();
  }

  clear() {
    this.key = '';
    this.el.actions.replaceChildren();
    this.closeWording();
    this.el.error.hidden = true;
    this.say('');
  }

  say(text) {
    setText(this.el.note, text);
    this.el.note.hidden = !text;
  }

  /** Run a request with `button` disabled; its failure shown above the actions. */
  async run(button, fn) {
    this.say('');
    const done = await busy(button, this.el.error, async () => {
      await fn();
      return true;
    });
    return done === true;
  }

  button(text, fn, extra = {}) {
    const b = h('button', { type: 'button', text, ...extra });
    b.addEventListener('click', () => this.run(b, fn));
    return b;
  }

  post(action) {
    return this.call(`/polls/${this.poll.id}/${action}`, { method: 'POST' });
  }

  renderActions() {
    const poll = this.poll;
    const id = poll.id;
    const items = [];
    if (poll.status === 'draft') {
      items.push(h('a', { class: 'button', href: `#/edit/${id}`, text: 'Edit draft' }));
    } else {
      items.push(h('button', {
        type: 'button',
        text: 'Fix wording',
        'aria-expanded': String(this.form !== null),
        'aria-controls': 'pm-wording',
        id: 'pm-fix',
        on: { click: () => this.openWording() },
      }));
    }
    if (poll.status === 'closed') {
      items.push(this.button('Reopen voting', async () => {
        await this.post('reopen');
        this.say('Voting is open again; the votes cast so far still count.');
      }));
    }
    items.push(poll.results_hidden
      ? this.button('Reveal results', () => this.post('reveal'))
      : this.button('Hide results', () => this.post('hide')));
    if (poll.status !== 'draft') {
      items.push(
        this.button('Download results (CSV)', async () => {
          const name = await this.download(`/polls/${id}/results.csv`, `poll-${id}-results.csv`);
          this.say(`Saved ${name}.`);
        }),
        this.button('Download ballots (CSV)', async () => {
          const name = await this.download(`/polls/${id}/ballots.csv`, `poll-${id}-ballots.csv`);
          this.say(`Saved ${name}.`);
        }),
      );
    }
    if (poll.status === 'closed') {
      items.push(confirmButton({
        label: 'Reset results',
        yes: 'Yes, reset',
        question: () => {
          const n = this.results ? this.results.total : null;
          let ballots = 'Every ballot';
          if (n === 1) ballots = 'The one ballot';
          else if (n !== null) ballots = `All ${n} ballots`;
          return `${ballots} of this poll will be deleted and its counts set to zero. The reset is recorded (who, when, the counts dropped). Reopen the poll to vote again.`;
        },
        act: () => this.run(null, async () => {
          await this.post('reset');
          this.say('The results were reset: no votes.');
        }),
      }));
    }
    this.el.actions.replaceChildren(...items);
  }

  // --- fix wording ----------------------------------------------------------------------

  openWording() {
    if (this.form || !this.poll) return;
    const poll = this.poll;
    const summary = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const question = h('textarea', {
      id: 'pm-question', name: 'question', rows: '2', maxlength: '500', 'data-field': 'question',
      'aria-describedby': 'pm-question-error',
    });
    question.value = poll.question;
    const labels = kindOf(poll.kind).wording(poll, 'pm');
    const save = h('button', { type: 'submit', class: 'primary', text: 'Save wording' });
    const cancel = h('button', { type: 'button', text: 'Cancel', on: { click: () => this.closeWording(true) } });
    const form = h(
      'form',
      { class: 'pm-wording-form', novalidate: true, 'aria-labelledby': 'pm-wording-title' },
      h('h3', { id: 'pm-wording-title', text: 'Fix the wording' }),
      h('p', {
        class: 'hint',
        text: 'Only the words change, for everyone watching: the votes stay as they are.',
      }),
      summary,
      h(
        'div',
        { class: 'field' },
        h('label', { for: 'pm-question', text: 'Question' }),
        question,
        h('p', { id: 'pm-question-error', class: 'field-error', 'data-error-for': 'question', hidden: true }),
      ),
      labels.node,
      h('div', { class: 'actions' }, save, cancel),
    );
    form.addEventListener('submit', async (event) => {
      event.preventDefault();
      clearErrors(form, summary);
      save.disabled = true;
      try {
        await this.call(`/polls/${poll.id}`, {
          method: 'PATCH',
          body: { question: question.value, ...labels.body() },
        });
        this.closeWording(true);
        this.say('The wording is fixed.');
      } catch (err) {
        showErrors(form, summary, err);
      } finally {
        save.disabled = false;
      }
    });
    this.form = form;
    this.el.wording.replaceChildren(form);
    this.el.wording.hidden = false;
    this.setExpanded(true);
    question.focus();
  }

  closeWording(refocus = false) {
    if (!this.form) return;
    this.form = null;
    this.el.wording.replaceChildren();
    this.el.wording.hidden = true;
    this.setExpanded(false);
    const fix = this.el.actions.querySelector('#pm-fix');
    if (refocus && fix) fix.focus();
  }

  setExpanded(on) {
    const fix = this.el.actions.querySelector('#pm-fix');
    if (fix) fix.setAttribute('aria-expanded', String(on));
  }
}
