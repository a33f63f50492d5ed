// Single and multiple choice: a ballot is a set of option ids, each counted once, so
// the chart is a bar per option out of the voters. Single votes with one tap;
// multiple ticks boxes, then submits (at most max_choices of them).

import { h } from '../dom.js';
import {
  answerWording, limitForm, renderSubmit, renderTaps, sameSet, shareCells, tapButton,
} from './parts.js';

const choice = {
  hasOptions: true,
  message: (ballot) => ({ option_ids: ballot }),
  same: sameSet,

  rows: (poll) => poll.options.map((o) => ({ key: String(o.id), label: o.label, optionId: o.id })),

  tally(poll, counts, total) {
    return { cells: shareCells(poll.options.map((o) => String(o.id)), counts, total), order: null, summary: '' };
  },

  mine: (poll, ballot) => new Map((ballot || []).map((id) => [String(id), 'your vote'])),

  describe: (poll) => `${poll.options.length} answers`,

  errors: (poll) => ({ too_many_choices: `Pick at most ${poll.max_choices} answers.` }),

  verdict: () => '',

  wording: (poll, prefix) => answerWording(poll, prefix),
};

export const single = {
  ...choice,
  pick: 'One answer',
  ready: () => false, // a tap votes

  build(view) {
    const { poll } = view.state;
    view.el.choices.replaceChildren(...poll.options.map((option) => tapButton(
      view, option.id, option.label, { dataset: { optionId: String(option.id) } },
    )));
  },

  render: renderTaps,

  instructions: (poll, voted) => (voted ? 'Tap another answer to change your vote.' : 'Tap one answer.'),

  form: null,
};

export const multiple = {
  ...choice,
  pick: 'Several answers',
  ready: (poll, picks) => picks.length > 0,

  build(view) {
    const { poll } = view.state;
    view.el.choices.replaceChildren(...poll.options.map((option) => {
      const box = h('input', {
        type: 'checkbox',
        value: String(option.id),
        dataset: { optionId: String(option.id) },
        on: {
          change: (event) => {
            const picks = view.state.picks.filter((id) => id !== option.id);
            if (event.target.checked) picks.push(option.id);
            view.state.picks = picks;
            view.render();
          },
        },
      });
      return h('label', { class: 'choice' }, box, h('span', { class: 'label', text: option.label }));
    }));
  },

  render(view) {
    const { el, state } = view;
    const open = view.canVote();
    const mine = new Set((state.myVote || []).map(Number));
    const picked = new Set(state.picks);
    const max = state.poll.max_choices;
    const full = picked.size >= max;
    for (const box of el.choices.querySelectorAll('input[type=checkbox]')) {
      const id = Number(box.value);
      box.checked = picked.has(id);
      box.disabled = !open || (full && !box.checked);
      box.closest('.choice').classList.toggle('is-mine', mine.has(id));
    }
    renderSubmit(view, multiple, `${picked.size} of at most ${max} picked`);
  },

  instructions: (poll) => `Pick up to ${poll.max_choices} answer${poll.max_choices === 1 ? '' : 's'}, then submit.`,

  form: () => limitForm({
    id: 'f-max', label: 'At most how many?', hint: 'Leave empty to allow all.', min: 1,
  }),
};
