// Pieces the kind components (kinds/*.js) share, so that two kinds voting the same way
// (a tap votes; or pick, then submit) or asking for the same sort of rule (a number,
// a short label) do it with one piece of code: the audience's controls, the chart's
// cells, the poll form's fields and the wording form's rows.

import { h, setText } from '../dom.js';

// --- the audience's ballot ------------------------------------------------------------

/**
 * A button that votes `[value]` when tapped (single choice, a rating's values); its
 * state is `renderTaps`'s. The label is the accessible name; `extra` adds attributes.
 */
export function tapButton(view, value, label, extra = {}) {
  return h(
    'button',
    {
      type: 'button',
      class: 'choice',
      'aria-pressed': 'false',
      ...extra,
      dataset: { value: String(value), ...(extra.dataset || {}) },
      on: { click: () => view.vote([value]) },
    },
    h('span', { class: 'check', 'aria-hidden': 'true', text: '✓' }),
    h('span', { class: 'label', text: label }),
  );
}

/** Tap buttons show the counted ballot, the one in flight, and whether a tap may vote. */
export function renderTaps(view) {
  const { el, state } = view;
  const open = view.canVote();
  const mine = new Set((state.myVote || []).map(Number));
  const sending = new Set(state.pending ? state.pending.ids.map(Number) : []);
  for (const button of el.choices.querySelectorAll('button.choice[data-value]')) {
    const value = Number(button.dataset.value);
    button.setAttribute('aria-pressed', String(mine.has(value)));
    button.classList.toggle('is-pending', sending.has(value));
    button.disabled = !open;
    button.setAttribute('aria-disabled', String(!open || Boolean(state.pending)));
  }
  el.submit.hidden = true;
  setText(el.choiceCount, '');
}

/** The submit button of a kind whose picks are sent together; `counted` says how far. */
export function renderSubmit(view, kind, counted) {
  const { el, state } = view;
  const open = view.canVote();
  el.submit.hidden = false;
  setText(el.submit, state.myVote ? 'Change vote' : 'Submit vote');
  el.submit.disabled = !open || Boolean(state.pending) || !kind.ready(state.poll, state.picks)
    || kind.same(state.myVote, state.picks);
  setText(el.choiceCount, open ? counted : '');
}

/** Ballots as sets of numbers (single and multiple choice). */
export function sameSet(a, b) {
  if (!a || !b) return false;
  const left = new Set(a.map(Number));
  return left.size === b.length && b.every((v) => left.has(Number(v)));
}

// --- the chart ---------------------------------------------------------------------------

/**
 * Chart cells for count fields each counted once per voter at most (an option, a
 * value): the count, its share of the voters, the leading ones marked.
 */
export function shareCells(keys, counts, total) {
  const values = keys.map((key) => Number(counts[key] || 0));
  const top = values.length ? Math.max(...values) : 0;
  return new Map(keys.map((key, i) => {
    const n = values[i];
    // Percent of voters: in a multiple-choice poll the rows may add up past 100.
    const share = total > 0 ? n / total : 0;
    return [key, { count: String(n), pct: `${Math.round(share * 100)}%`, share, lead: n > 0 && n === top }];
  }));
}

// --- the poll form ----------------------------------------------------------------------

function field(id, name, label, hint, control) {
  const described = [hint ? `${id}-hint` : '', `${id}-error`].filter(Boolean).join(' ');
  control.setAttribute('aria-describedby', described);
  return h(
    'div',
    { class: 'field' },
    h('label', { for: id, text: label }),
    control,
    hint ? h('p', { id: `${id}-hint`, class: 'hint', text: hint }) : null,
    h('p', { id: `${id}-error`, class: 'field-error', 'data-error-for': name, hidden: true }),
  );
}

/** A whole-number field (`value`: its default, restored by the form's reset). */
export function numberField({ id, name, label, hint = '', min, max, value = '' }) {
  const input = h('input', {
    id, name, type: 'number', min: String(min), max: String(max), inputmode: 'numeric',
    'data-field': name, value,
  });
  return { node: field(id, name, label, hint, input), input };
}

export function textField({ id, name, label, hint = '', maxlength }) {
  const input = h('input', {
    id, name, type: 'text', maxlength: String(maxlength), autocomplete: 'off', 'data-field': name,
  });
  return { node: field(id, name, label, hint, input), input };
}

/** A number as typed: null when empty; not a whole number, sent as typed so the
 * server's 422 names the field. */
export function readNumber(input) {
  const text = input.value.trim();
  if (text === '') return null;
  return /^\d+$/.test(text) ? Number(text) : text;
}

/**
 * The form part of a kind whose rule is `max_choices` out of the options (multiple
 * choice: at most; ranking: how many each voter orders); empty means all of them.
 */
export function limitForm({ id, label, hint, min }) {
  const { node, input } = numberField({ id, name: 'max_choices', label, hint, min, max: 20 });
  return {
    node,
    fill(poll) {
      input.value = String(poll.max_choices);
    },
    optionsChanged(n) {
      input.max = String(n);
    },
    body(body, { editing, nOptions }) {
      const max = readNumber(input);
      if (max !== null) body.max_choices = max;
      // Empty means "all of them"; a PATCH without it would keep the draft's number.
      else if (editing && nOptions >= 2 && nOptions <= 20) body.max_choices = nOptions;
    },
  };
}


/** The wording form's rows of a kind with options: each label, in position order. */
export function answerWording(poll, prefix) {
  const rows = poll.options.map((option, i) => {
    const inputId = `${prefix}-option-${i}`;
    const input = h('input', {
      id: inputId, type: 'text', maxlength: '200', autocomplete: 'off',
      'data-field': `options[${i}]`, 'aria-describedby': `${inputId}-error`,
    });
    input.value = option.label;
    return h(
      'li',
      { class: 'option-row' },
      h('label', { for: inputId, class: 'visually-hidden', text: `Answer ${i + 1}` }),
      input,
      h('p', { class: 'field-error', id: `${inputId}-error`, 'data-error-for': `options[${i}]`, hidden: true }),
    );
  });
  const node = h(
    'fieldset',
    { class: 'field' },
    h('legend', { text: 'Answers' }),
    h('ol', { class: 'option-inputs' }, ...rows),
    h('p', { class: 'field-error', 'data-error-for': 'options', hidden: true }),
  );
  return {
    node,
    body: () => ({ options: rows.map((row) => row.querySelector('input').value) }),
  };
}
