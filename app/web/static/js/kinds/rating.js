// Rating: each voter gives one value from 1 to the poll's scale, with one tap (and taps
// another to change it, where allowed). The tally is the distribution, one count per
// value; the average follows exactly from it (Σ value × count / voters), as on the
// server's export.

import { decimal, h } from '../dom.js';
import {
  numberField, readNumber, renderTaps, sameSet, shareCells, tapButton, textField,
} from './parts.js';

const SCALE_MIN = 2;
const SCALE_MAX = 10;
const LABEL_MAX = 60;

function values(poll) {
  return Array.from({ length: poll.scale }, (_, i) => i + 1);
}

/** The end labels' fields (the poll form's and the wording form's). */
function endFields(prefix) {
  return {
    low: textField({
      id: `${prefix}-low`, name: 'low_label', label: 'Words under 1 (optional)', maxlength: LABEL_MAX,
    }),
    high: textField({
      id: `${prefix}-high`, name: 'high_label', label: 'Words under the top value (optional)', maxlength: LABEL_MAX,
    }),
  };
}

/** The end labels into `body`; one the `saved` poll had and the form emptied is sent
 * as null, which takes it away. */
function endsBody(body, { low, high }, saved) {
  for (const [name, part] of [['low_label', low], ['high_label', high]]) {
    const text = part.input.value.trim();
    if (text) body[name] = text;
    else if (saved && saved[name]) body[name] = null;
  }
  return body;
}

function fillEnds(poll, { low, high }) {
  low.input.value = poll.low_label || '';
  high.input.value = poll.high_label || '';
}

export const rating = {
  pick: 'Rating scale',
  hasOptions: false,
  message: (ballot) => ({ rating: ballot[0] }),
  same: sameSet,
  ready: () => false, // a tap votes

  build(view) {
    const { poll } = view.state;
    const ends = { 1: poll.low_label, [poll.scale]: poll.high_label };
    const buttons = values(poll).map((v) => tapButton(view, v, String(v), {
      class: 'choice scale-value',
      'aria-describedby': ends[v] ? `scale-end-${v}` : undefined,
    }));
    const row = h('div', { class: 'scale-values' }, ...buttons);
    row.style.setProperty('--values', String(poll.scale));
    view.el.choices.replaceChildren(h(
      'div',
      { class: 'scale' },
      row,
      h(
        'p',
        { class: 'scale-ends' },
        h('span', { id: 'scale-end-1', text: poll.low_label || '' }),
        h('span', { id: `scale-end-${poll.scale}`, text: poll.high_label || '' }),
      ),
    ));
  },

  render: renderTaps,

  instructions: (poll, voted) => (voted
    ? 'Tap another value to change your rating.'
    : `Tap a value from 1 to ${poll.scale}.`),

  errors: () => ({}),

  rows: (poll) => values(poll).map((v) => ({
    key: String(v),
    label: String(v),
    sub: (v === 1 && poll.low_label) || (v === poll.scale && poll.high_label) || '',
  })),

  tally(poll, counts, total) {
    const keys = values(poll).map(String);
    const sum = keys.reduce((acc, key) => acc + Number(key) * Number(counts[key] || 0), 0);
    const average = total > 0 ? decimal(sum, total) : '—';
    return { cells: shareCells(keys, counts, total), order: null, summary: `Average ${average} out of ${poll.scale}` };
  },

  mine: (poll, ballot) => new Map((ballot || []).map((v) => [String(v), 'your vote'])),

  verdict: () => '',

  describe: (poll) => `Rating 1–${poll.scale}`,

  form() {
    const scale = numberField({
      id: 'f-scale', name: 'scale', label: 'Values from 1 to', hint: `A whole number from ${SCALE_MIN} to ${SCALE_MAX}.`,
      min: SCALE_MIN, max: SCALE_MAX, value: '5',
    });
    const ends = endFields('f');
    return {
      node: h('div', {}, scale.node, ends.low.node, ends.high.node),
      fill(poll) {
        scale.input.value = String(poll.scale);
        fillEnds(poll, ends);
      },
      optionsChanged() {},
      body(body, { saved }) {
        const n = readNumber(scale.input);
        if (n !== null) body.scale = n;
        endsBody(body, ends, saved && saved.kind === 'rating' ? saved : null);
      },
    };
  },

  wording(poll, prefix) {
    const ends = endFields(prefix);
    fillEnds(poll, ends);
    return {
      node: h('div', {}, ends.low.node, ends.high.node),
      body: () => endsBody({}, ends, poll),
    };
  },
};
