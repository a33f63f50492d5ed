// Ranking: each voter orders k of the poll's options (k is `max_choices`), first
// choice first. On a phone or by keyboard: tap the answers in order (each tap gives the
// next place, a ranked answer tapped again leaves the ranking), with "Undo last" and
// "Clear"; submit once exactly k are placed. The tally counts, per option and place,
// how many voters put it there ("12:1"); the standings follow from it: Borda points
// (k for a first place, 1 for a k-th), the average place among those who ranked it,
// ordered by points, then average place, then the options' order.

import { decimal, h, ordinal, setText } from '../dom.js';
import { answerWording, limitForm, renderSubmit } from './parts.js';

function sameOrder(a, b) {
  if (!a || !b) return false;
  return a.length === b.length && a.every((v, i) => Number(v) === Number(b[i]));
}

/** Every option's standing, best first. */
function standings(poll, counts) {
  const k = poll.max_choices;
  const all = poll.options.map((option, index) => {
    let points = 0;
    let ranked = 0;
    let placeSum = 0;
    for (let place = 1; place <= k; place += 1) {
      const n = Number(counts[`${option.id}:${place}`] || 0);
      points += n * (k - place + 1);
      ranked += n;
      placeSum += n * place;
    }
    return { option, position: option.position ?? index, points, ranked, placeSum };
  });
  return all.sort((a, b) => b.points - a.points
    // Average places compared exactly: a.placeSum / a.ranked against b's, cross-multiplied.
    || (a.ranked && b.ranked ? a.placeSum * b.ranked - b.placeSum * a.ranked : b.ranked - a.ranked)
    || a.position - b.position);
}

function place(view, optionId) {
  const { state } = view;
  const k = state.poll.max_choices;
  if (state.picks.includes(optionId)) state.picks = state.picks.filter((id) => id !== optionId);
  else if (state.picks.length < k) state.picks = [...state.picks, optionId];
  view.render();
}

export const ranking = {
  pick: 'Ranking',
  hasOptions: true,
  message: (ballot) => ({ option_ids: ballot }),
  same: sameOrder,
  ready: (poll, picks) => picks.length === poll.max_choices,

  build(view) {
    const { poll } = view.state;
    const buttons = poll.options.map((option) => h(
      'button',
      {
        type: 'button',
        class: 'choice rank-option',
        'aria-pressed': 'false',
        dataset: { optionId: String(option.id) },
        on: { click: () => place(view, option.id) },
      },
      h('span', { class: 'place', 'aria-hidden': 'true' }),
      h('span', { class: 'label', text: option.label }),
    ));
    const change = (fn) => () => {
      view.state.picks = fn(view.state.picks);
      view.render();
    };
    view.el.choices.replaceChildren(
      ...buttons,
      h(
        'div',
        { class: 'actions rank-actions' },
        h('button', { type: 'button', class: 'rank-undo', text: 'Undo last', on: { click: change((p) => p.slice(0, -1)) } }),
        h('button', { type: 'button', class: 'rank-clear', text: 'Clear', on: { click: change(() => []) } }),
      ),
    );
  },

  render(view) {
    const { el, state } = view;
    const open = view.canVote();
    const k = state.poll.max_choices;
    const { picks } = state;
    const sending = new Set(state.pending ? state.pending.ids : []);
    for (const button of el.choices.querySelectorAll('button.rank-option')) {
      const id = Number(button.dataset.optionId);
      const at = picks.indexOf(id) + 1;
      setText(button.querySelector('.place'), at ? String(at) : '');
      const label = button.querySelector('.label').textContent;
      // Its place in its name: what a screen reader says for the badge.
      if (at) button.setAttribute('aria-label', `${label}, ranked ${ordinal(at)}`);
      else button.removeAttribute('aria-label');
      button.setAttribute('aria-pressed', String(at > 0));
      button.classList.toggle('is-pending', sending.has(id));
      button.disabled = !open || (!at && picks.length >= k);
    }
    for (const button of el.choices.querySelectorAll('.rank-actions button')) {
      button.disabled = !open || picks.length === 0;
    }
    renderSubmit(view, ranking, `${picks.length} of ${k} ranked`);
  },

  instructions(poll) {
    const k = poll.max_choices;
    const what = k === poll.options.length ? 'every answer' : `${k} answers`;
    return `Tap ${what} in order, your first choice first, then submit. Tap a ranked answer again to take it out.`;
  },

  errors: (poll) => ({
    wrong_rank_count: `Rank exactly ${poll.max_choices} answers.`,
    too_many_choices: `Rank exactly ${poll.max_choices} answers.`,
  }),

  rows: (poll) => poll.options.map((o) => ({ key: String(o.id), label: o.label, optionId: o.id })),

  tally(poll, counts, total) {
    const k = poll.max_choices;
    const best = standings(poll, counts);
    const cells = new Map(best.map((s, i) => [String(s.option.id), {
      count: `${s.points} ${s.points === 1 ? 'pt' : 'pts'}`,
      pct: s.ranked ? `avg ${decimal(s.placeSum, s.ranked)}` : 'avg —',
      // Out of the most an option can get: first place on every ballot.
      share: total > 0 ? s.points / (k * total) : 0,
      lead: i === 0 && s.points > 0,
    }]));
    return {
      cells,
      order: best.map((s) => String(s.option.id)),
      summary: `Points: ${k} for a 1st place, down to 1 for a ${ordinal(k)}. avg: the average place.`,
    };
  },

  mine: (poll, ballot) => new Map((ballot || []).map((id, i) => [String(id), `your ${ordinal(i + 1)}`])),

  verdict: () => '',

  describe: (poll) => (poll.max_choices === poll.options.length
    ? `Ranking of ${poll.options.length}`
    : `Ranking: top ${poll.max_choices} of ${poll.options.length}`),

  form: () => limitForm({
    id: 'f-rank',
    label: 'How many should each voter rank?',
    hint: 'From 2 to the number of answers. Leave empty to rank them all.',
    min: 2,
  }),

  wording: (poll, prefix) => answerWording(poll, prefix),
};
