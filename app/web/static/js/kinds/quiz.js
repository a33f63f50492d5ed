// Quiz: a choice question with correct answers. The audience votes as in single choice
// (one correct answer: a tap votes) or multiple choice (several: tick, then submit);
// the server keeps the answer key (`correct` on each option) from everyone but the
// host until voting closes, and from then on the chart marks the correct answers and
// each phone says whether its ballot was right. Points (speed counts) are the
// server's: the leaderboard (GET /polls/{id}/leaderboard, /sessions/{id}/leaderboard).

import { h } from '../dom.js';
import { multiple, single } from './choice.js';
import { answerWording, limitForm, readNumber, sameSet } from './parts.js';

const correctIds = (poll) => poll.options.filter((o) => o.correct === true).map((o) => o.id);
const revealed = (poll) => poll.options.some((o) => o.correct === true);
const pickOne = (poll) => poll.max_choices === 1;

/** A box per answer, by number (`key`: the positions ticked). */
function keyBoxes(n, key) {
  return Array.from({ length: n }, (_, i) => h(
    'label',
    { class: 'key-box' },
    h('input', { type: 'checkbox', value: String(i), 'data-field': `correct[${i}]`, checked: key.includes(i) }),
    h('span', { text: `Answer ${i + 1} is correct` }),
  ));
}

const ticked = (boxes) => [...boxes.querySelectorAll('input:checked')].map((b) => Number(b.value));
const keyOf = (poll) => poll.options.filter((o) => o.correct).map((o) => o.position);

/** The form's answer key: a box per answer, kept as many as the answers (by number:
 * the form's labels are the options editor's). */
function keyForm() {
  const limit = limitForm({
    id: 'f-quiz-max',
    label: 'How many may each voter pick?',
    hint: 'Leave empty for as many as there are correct answers.',
    min: 1,
  });
  const boxes = h('div', { class: 'key-boxes' });
  const node = h(
    'div',
    {},
    h(
      'fieldset',
      { class: 'field' },
      h('legend', { text: 'Correct answers' }),
      boxes,
      h('p', { class: 'hint', text: 'Tick every correct answer, by its number in the list above.' }),
      h('p', { class: 'field-error', 'data-error-for': 'correct', hidden: true }),
    ),
    limit.node,
  );
  const checked = () => ticked(boxes);
  const draw = (n, key) => boxes.replaceChildren(...keyBoxes(n, key));
  return {
    node,
    fill(poll) {
      limit.fill(poll);
      draw(poll.options.length, keyOf(poll));
    },
    optionsChanged(n) {
      limit.optionsChanged(n);
      draw(n, checked().filter((i) => i < n));
    },
    body(body) {
      body.correct = checked();
      // Empty: as many as the key has (sent, or a PATCH would keep the draft's number).
      const max = readNumber(limit.node.querySelector('input'));
      body.max_choices = max !== null ? max : Math.max(1, body.correct.length);
    },
  };
}

export const quiz = {
  ...single,
  pick: 'Quiz',
  scored: true, // a leaderboard: the phone shows my points once closed (poll-view.js)
  same: sameSet,
  ready: (poll, picks) => !pickOne(poll) && picks.length > 0,

  build: (view) => (pickOne(view.state.poll) ? single : multiple).build(view),

  render(view) {
    const { poll } = view.state;
    if (pickOne(poll)) single.render(view);
    else multiple.render(view);
    const key = new Set(correctIds(poll));
    for (const node of view.el.choices.querySelectorAll('[data-option-id]')) {
      const choice = node.closest('.choice') || node;
      choice.classList.toggle('is-correct', key.has(Number(node.dataset.optionId)));
    }
  },

  instructions: (poll, voted) => (pickOne(poll)
    ? single.instructions(poll, voted)
    : multiple.instructions(poll, voted)),

  rows: (poll) => poll.options.map((o) => ({
    key: String(o.id),
    label: o.label,
    optionId: o.id,
    sub: o.correct === true ? '✓ correct answer' : '',
  })),

  mine(poll, ballot) {
    if (!ballot || !revealed(poll)) return single.mine(poll, ballot);
    const right = sameSet(ballot, correctIds(poll));
    return new Map(ballot.map((id) => [String(id), right ? 'you: right' : 'your vote']));
  },

  verdict(poll, ballot) {
    if (!revealed(poll)) return '';
    const answers = poll.options.filter((o) => o.correct).map((o) => o.label).join(', ');
    if (!ballot) return `The answer: ${answers}.`;
    return sameSet(ballot, correctIds(poll)) ? 'You got it right!' : `Not this time. The answer: ${answers}.`;
  },

  describe: (poll) => `Quiz of ${poll.options.length} answers`,

  // "Fix wording" fixes the key too: a wrong one found after the reveal re-scores everyone.
  wording(poll, prefix) {
    const words = answerWording(poll, prefix);
    const boxes = h('div', { class: 'key-boxes' }, ...keyBoxes(poll.options.length, keyOf(poll)));
    const node = h(
      'div',
      {},
      words.node,
      h(
        'fieldset',
        { class: 'field' },
        h('legend', { text: 'Correct answers' }),
        boxes,
        h('p', { class: 'hint', text: 'Changing them scores every ballot again.' }),
        h('p', { class: 'field-error', 'data-error-for': 'correct', hidden: true }),
      ),
    );
    return { node, body: () => ({ ...words.body(), correct: ticked(boxes) }) };
  },

  errors: (poll) => ({ too_many_choices: `Pick at most ${poll.max_choices} answers.` }),

  form: keyForm,
};
