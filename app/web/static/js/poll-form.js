// The host's poll form (`#create-form` in host.html): every field of POST /polls, for
// a new poll and, at `#/edit/{id}`, for a draft (PATCH /polls/{id}: the same fields
// but `status`). One form and one set of controls for both, so the two never drift
// apart: editing fills the form from the draft and relabels its two submit buttons.
//
// The kind of question is picked from the kinds the client knows (kinds/index.js):
// the options editor shows for kinds with options, and the picked kind's own part of
// the form (how many to pick or rank, a rating's scale and end labels) below it; only
// that part is in the form, so its fields alone are sent and its error slots alone
// are found.
//
// host.js owns routing; it hands this module its REST helper (`call`, which signs the
// host out on a 401 that renewal cannot cure), the page's notice and a callback for
// when the list of polls changed.

import { ApiError, describeError } from './api.js';
import { byId, h, setText } from './dom.js';
import { clearErrors, showErrors } from './forms.js';
import { KINDS, kindOf } from './kinds/index.js';

const MAX_OPTIONS = 20;
const MIN_OPTIONS = 2;

/** An ISO time as a `datetime-local` value in this browser's zone ("" for none). */
function localInput(iso) {
  if (!iso) return '';
  const when = new Date(iso);
  if (Number.isNaN(when.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${when.getFullYear()}-${pad(when.getMonth() + 1)}-${pad(when.getDate())}`
    + `T${pad(when.getHours())}:${pad(when.getMinutes())}`;
}

export class PollForm {
  constructor({ call, notice, changed }) {
    this.call = call;
    this.notice = notice;
    this.changed = changed;
    this.el = {
      form: byId('create-form'),
      title: byId('create-title'),
      editing: byId('f-editing'),
      error: byId('create-error'),
      kinds: byId('f-kinds'),
      optionsSet: byId('f-options-set'),
      options: byId('f-options'),
      addOption: byId('f-add-option'),
      kindFields: byId('f-kind-fields'),
      primary: byId('f-submit-open'),
      secondary: byId('f-submit-draft'),
      cancel: byId('f-cancel-edit'),
    };
    this.optionSeq = 0;
    this.draft = null; // the draft being edited, or null for a new poll
    this.loads = 0; // the latest edit() call: an older GET's answer is dropped
    this.initialClosesAt = '';

    const { el } = this;
    el.addOption.addEventListener('click', () => {
      const input = this.addOptionRow();
      if (input) input.focus();
    });
    el.kinds.replaceChildren(...Object.entries(KINDS).map(([name, kind], i) => {
      const radio = h('input', {
        type: 'radio', name: 'kind', value: name, 'data-field': i === 0 ? 'kind' : undefined,
        on: { change: () => this.showKind() },
      });
      radio.defaultChecked = i === 0; // what the form's reset comes back to
      return h('label', { class: 'inline' }, radio, ` ${kind.pick}`);
    }));
    this.parts = {};
    el.form.addEventListener('submit', (event) => {
      event.preventDefault();
      const open = !(event.submitter && event.submitter.value === 'draft');
      if (this.draft) this.saveDraft(open);
      else this.create(open ? 'open' : 'draft');
    });
    el.cancel.addEventListener('click', () => {
      location.hash = '#/';
    });
    this.reset();
  }

  get editing() {
    return this.draft !== null;
  }

  // --- the answers --------------------------------------------------------------------

  addOptionRow(value = '') {
    const { el } = this;
    if (el.options.children.length >= MAX_OPTIONS) return null;
    this.optionSeq += 1;
    const id = `f-option-${this.optionSeq}`;
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
            this.renumberOptions();
            if (next) next.querySelector('input').focus();
          },
        },
      }),
      h('p', { class: 'field-error', id: `${id}-error`, hidden: true }),
    );
    input.setAttribute('aria-describedby', `${id}-error`);
    el.options.append(row);
    this.renumberOptions();
    return input;
  }

  renumberOptions() {
    const { el } = this;
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
    for (const part of Object.values(this.parts)) part.optionsChanged(rows.length);
  }

  kind() {
    return this.el.form.elements.kind.value;
  }

  /** The picked kind's part of the form (null: it has none). */
  part() {
    return this.parts[this.kind()] || null;
  }

  /** Fresh parts for every kind (the form's reset does not reach the ones not shown). */
  newParts() {
    this.parts = {};
    for (const [name, kind] of Object.entries(KINDS)) {
      const part = kind.form ? kind.form() : null;
      if (part) this.parts[name] = part;
    }
  }

  showKind() {
    const { el } = this;
    el.optionsSet.hidden = !kindOf(this.kind()).hasOptions;
    const part = this.part();
    if (part) part.optionsChanged(el.options.children.length);
    el.kindFields.replaceChildren(...(part ? [part.node] : []));
  }

  labels() {
    return [...this.el.options.querySelectorAll('input')].map((input) => input.value);
  }

  // --- modes --------------------------------------------------------------------------

  /** An empty form for a new poll. */
  reset() {
    const { el } = this;
    this.draft = null;
    this.loads += 1;
    this.initialClosesAt = '';
    el.form.reset();
    this.newParts();
    el.options.replaceChildren();
    this.addOptionRow();
    this.addOptionRow();
    this.showKind();
    clearErrors(el.form, el.error);
    this.setMode();
  }

  setMode() {
    const { el, draft } = this;
    setText(el.title, draft ? 'Edit draft' : 'New poll');
    el.editing.hidden = !draft;
    if (draft) setText(el.editing, `Code ${draft.code}. Saving keeps it a draft until you open it.`);
    setText(el.primary, draft ? 'Save and open' : 'Create and open');
    setText(el.secondary, draft ? 'Save changes' : 'Save as draft');
    el.cancel.hidden = !draft;
  }

  /** Leave editing (the route moved on); a new poll being typed stays as it is. */
  leaveEdit() {
    if (this.draft !== null) this.reset();
    else this.loads += 1; // a draft still loading is not shown
  }

  /** Back to a new poll, at `#/`, with why in the page's notice. */
  cannotEdit(text) {
    this.reset();
    history.replaceState(null, '', '#/');
    this.notice(text, 'warn');
  }

  /** Edit the draft `pollId` (`#/edit/{id}`): the form filled from GET /polls/{id}. */
  async edit(pollId) {
    if (this.draft && this.draft.id === pollId) return;
    const load = ++this.loads;
    const { el } = this;
    clearErrors(el.form, el.error);
    let poll;
    try {
      poll = (await this.call(`/polls/${pollId}`)).poll;
    } catch (err) {
      if (load !== this.loads) return;
      this.cannotEdit(`That poll cannot be edited. ${describeError(err)}`);
      return;
    }
    if (load !== this.loads) return;
    if (poll.status !== 'draft') {
      this.cannotEdit('Only a draft can be edited. Fix the wording of an open or closed poll under “Manage” in its presenter view.');
      return;
    }
    this.fill(poll);
    el.form.scrollIntoView({ block: 'start' });
    el.form.elements.question.focus();
  }

  fill(poll) {
    const { el } = this;
    const f = el.form.elements;
    el.form.reset();
    this.newParts();
    this.draft = poll;
    f.question.value = poll.question;
    el.options.replaceChildren();
    for (const option of poll.options) this.addOptionRow(option.label);
    // A rating has none: the editor is ready should the kind change.
    while (el.options.children.length < MIN_OPTIONS) this.addOptionRow();
    f.kind.value = poll.kind;
    if (this.parts[poll.kind]) this.parts[poll.kind].fill(poll);
    f.allow_change.checked = Boolean(poll.allow_change);
    f.results_visibility.value = poll.results_visibility;
    f.require_account.checked = Boolean(poll.require_account);
    f.results_hidden.checked = Boolean(poll.results_hidden);
    this.initialClosesAt = localInput(poll.closes_at);
    f.closes_at.value = this.initialClosesAt;
    this.showKind();
    clearErrors(el.form, el.error);
    this.setMode();
  }

  /** The form as a POST /polls body (`status` given) or, for a draft, a PATCH body. */
  body(status) {
    const f = this.el.form.elements;
    const kind = this.kind();
    const body = {
      question: f.question.value,
      kind,
      allow_change: f.allow_change.checked,
      results_visibility: f.results_visibility.value,
      require_account: f.require_account.checked,
      results_hidden: f.results_hidden.checked,
    };
    if (status) body.status = status;
    // A rating has no options: the server refuses any.
    if (kindOf(kind).hasOptions) body.options = this.labels();
    const part = this.part();
    if (part) {
      part.body(body, { editing: this.editing, saved: this.draft, nOptions: this.labels().length });
    }
    const closesAt = f.closes_at.value;
    // An edit sends the time only when it changed (the field keeps minutes, not seconds);
    // emptied, null takes the draft's closing time away.
    if (closesAt && !(this.editing && closesAt === this.initialClosesAt)) {
      const when = new Date(closesAt);
      body.closes_at = Number.isNaN(when.getTime()) ? closesAt : when.toISOString();
    } else if (!closesAt && this.editing && this.initialClosesAt) {
      body.closes_at = null;
    }
    return body;
  }

  async submitting(fn) {
    const buttons = this.el.form.querySelectorAll('button[type=submit]');
    clearErrors(this.el.form, this.el.error);
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn();
    } catch (err) {
      showErrors(this.el.form, this.el.error, err);
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }

  create(status) {
    return this.submitting(async () => {
      const poll = await this.call('/polls', { method: 'POST', body: this.body(status) });
      this.reset();
      if (poll.status === 'open') {
        location.hash = `#/poll/${poll.id}`;
      } else {
        this.notice(`Draft saved. Open it from “Your polls” when you are ready (code ${poll.code}).`);
        this.changed();
      }
    });
  }

  /** PATCH the draft; then, for "Save and open", open it and present it. */
  saveDraft(open) {
    const { draft } = this;
    return this.submitting(async () => {
      const saved = await this.call(`/polls/${draft.id}`, { method: 'PATCH', body: this.body(null) });
      this.draft = saved;
      this.initialClosesAt = localInput(saved.closes_at);
      if (open) {
        await this.call(`/polls/${draft.id}/open`, { method: 'POST' });
        this.reset();
        location.hash = `#/poll/${draft.id}`;
        return;
      }
      this.reset();
      this.notice(`Draft saved (code ${saved.code}).`);
      location.hash = '#/'; // the list reloads on the way
    });
  }
}
