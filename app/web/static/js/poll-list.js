// "Your polls" on the host's dashboard: every poll of the host, a page at a time
// (GET /polls: limit, offset, total), searched by a part of the question (`q`, typed
// and debounced) and filtered by status; each row presents, opens, closes or
// reopens its poll, edits a draft (`#/edit/{id}`, the poll form), duplicates it as a
// new draft, and deletes it after a confirmation.
//
// host.js hands this module its REST helper (`call`) and the page's notice.

import { describeError } from './api.js';
import { confirmButton } from './confirm.js';
import { byId, h, setText, shortTime } from './dom.js';
import { busy } from './forms.js';
import { kindOf } from './kinds/index.js';
import { Pager } from './paging.js';

const SEARCH_DELAY_MS = 300;
export const STATUS_WORDS = { draft: 'Draft', open: 'Open', closed: 'Closed' };

export class PollList {
  constructor({ call, notice }) {
    this.call = call;
    this.notice = notice;
    this.el = {
      search: byId('pl-search'),
      q: byId('pl-q'),
      status: byId('pl-status'),
      list: byId('poll-list'),
      empty: byId('list-empty'),
      error: byId('list-error'),
      prev: byId('pl-prev'),
      next: byId('pl-next'),
      range: byId('pl-range'),
    };
    this.query = '';
    this.status = '';
    this.timer = null;
    this.focusAfter = null; // {pollId, act}: a control to focus once the page is drawn

    const { el } = this;
    el.search.addEventListener('submit', (event) => {
      event.preventDefault();
      this.search();
    });
    el.q.addEventListener('input', () => {
      clearTimeout(this.timer);
      this.timer = setTimeout(() => this.search(), SEARCH_DELAY_MS);
    });
    el.status.addEventListener('change', () => this.search());
    this.pager = new Pager({
      prev: el.prev,
      next: el.next,
      range: el.range,
      fetchPage: (params) => {
        el.error.hidden = true;
        if (this.query) params.set('q', this.query);
        if (this.status) params.set('status', this.status);
        return this.call(`/polls?${params}`);
      },
      draw: (page) => this.draw(page),
      failed: (err) => {
        el.error.textContent = describeError(err);
        el.error.hidden = false;
      },
    });
  }

  /** The box and the filter as they are now, from the first page. */
  search() {
    clearTimeout(this.timer);
    this.timer = null;
    this.query = this.el.q.value.trim();
    this.status = this.el.status.value;
    this.pager.first();
  }

  load() {
    return this.pager.load();
  }

  draw(page) {
    const { el } = this;
    el.list.replaceChildren(...page.items.map((poll) => this.item(poll)));
    el.empty.hidden = page.items.length > 0;
    el.empty.textContent = this.emptyText();
    this.refocus();
  }

  emptyText() {
    const which = this.status ? `${this.status} ` : '';
    if (this.query) return `No ${which}poll has “${this.query}” in its question.`;
    if (this.status) return `No ${which}polls.`;
    return 'No polls yet.';
  }

  refocus() {
    if (!this.focusAfter) return;
    const { pollId, act } = this.focusAfter;
    this.focusAfter = null;
    const target = this.el.list.querySelector(`li[data-poll-id="${pollId}"] [data-act="${act}"]`);
    if (target) target.focus();
  }

  item(poll) {
    const error = h('p', { class: 'form-error', role: 'alert', hidden: true });
    const label = `“${poll.question}”`;
    const post = (text, action) => {
      const button = h('button', { type: 'button', text, dataset: { act: action } });
      button.addEventListener('click', async () => {
        const done = await busy(button, error, async () => {
          await this.call(`/polls/${poll.id}/${action}`, { method: 'POST' });
          return true;
        });
        if (done) this.load();
      });
      return button;
    };
    const actions = [h('a', { href: `#/poll/${poll.id}`, class: 'button', text: 'Present', dataset: { act: 'present' } })];
    if (poll.status === 'draft') {
      actions.push(
        post('Open voting', 'open'),
        h('a', { href: `#/edit/${poll.id}`, class: 'button', text: 'Edit', dataset: { act: 'edit' } }),
      );
    }
    if (poll.status === 'open') actions.push(post('Close voting', 'close'));
    if (poll.status === 'closed') actions.push(post('Reopen voting', 'reopen'));
    const duplicate = h('button', { type: 'button', text: 'Duplicate', 'aria-label': `Duplicate ${label}`, dataset: { act: 'duplicate' } });
    duplicate.addEventListener('click', async () => {
      const copy = await busy(duplicate, error, () => this.call(`/polls/${poll.id}/duplicate`, { method: 'POST' }));
      if (!copy) return;
      this.notice(`Copied as a new draft (code ${copy.code}): edit it or open it when you are ready.`);
      // The newest poll: on the first page, unless the filter hides drafts.
      if (this.status && this.status !== 'draft') this.status = '';
      this.el.status.value = this.status;
      this.el.q.value = this.query;
      this.focusAfter = { pollId: copy.id, act: 'edit' };
      this.pager.first();
    });
    actions.push(
      duplicate,
      confirmButton({
        label: 'Delete',
        ariaLabel: `Delete ${label}`,
        question: poll.status === 'draft' ? 'Delete this draft?' : 'Delete this poll and all its votes?',
        yes: 'Yes, delete',
        act: async () => {
          const done = await busy([], error, async () => {
            await this.call(`/polls/${poll.id}`, { method: 'DELETE' });
            return true;
          });
          if (done) this.load();
          return done;
        },
      }),
    );
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
          h('span', { text: kindOf(poll.kind).describe(poll) }),
          h('span', { text: shortTime(poll.created_at) }),
        ),
      ),
      h('div', { class: 'actions' }, ...actions),
      error,
    );
  }
}
