// The live results chart, shared by the audience and presenter pages.
//
// Rows are built once per set of options and then only updated in place: the
// numbers sit in fixed-width tabular columns and the bars change width only, so a
// moving tally never shifts the layout (or a focused control) on screen.

import { h, setText } from './dom.js';

export class ResultsChart {
  /** @param {HTMLOListElement} list  an empty <ol> to fill */
  constructor(list) {
    this.list = list;
    this.key = '';
    this.rows = new Map();
  }

  /** Build the rows for `options` (unchanged options keep their rows). */
  setOptions(options) {
    const key = options.map((o) => `${o.id}:${o.label}`).join('\n');
    if (key === this.key) return;
    this.key = key;
    this.rows.clear();
    this.list.replaceChildren(
      ...options.map((option) => {
        const count = h('span', { class: 'count', text: '0' });
        const pct = h('span', { class: 'pct', text: '0%' });
        const fill = h('span', { class: 'fill' });
        const mine = h('span', { class: 'mine', text: 'your vote', hidden: true });
        const row = h(
          'li',
          { class: 'row', dataset: { optionId: String(option.id) } },
          h(
            'div',
            { class: 'row-head' },
            h('span', { class: 'label' }, h('span', { class: 'label-text', text: option.label }), mine),
            h('span', { class: 'nums' }, count, pct),
          ),
          h('span', { class: 'bar', 'aria-hidden': 'true' }, fill),
        );
        this.rows.set(String(option.id), { row, count, pct, fill, mine });
        return row;
      }),
    );
  }

  /** Show `counts` ({option_id: n}) out of `total` voters; null counts blank the bars. */
  update(counts, total) {
    const values = counts ? [...this.rows.keys()].map((id) => Number(counts[id] || 0)) : [];
    const top = values.length ? Math.max(...values) : 0;
    for (const [id, parts] of this.rows) {
      const n = counts ? Number(counts[id] || 0) : null;
      // Percent of voters: in a multiple-choice poll the rows may add up past 100.
      const share = n !== null && total > 0 ? n / total : 0;
      setText(parts.count, n === null ? '–' : n);
      setText(parts.pct, n === null ? '' : `${Math.round(share * 100)}%`);
      parts.fill.style.width = `${(share * 100).toFixed(2)}%`;
      parts.row.classList.toggle('leading', n !== null && n > 0 && n === top);
    }
  }

  /** Mark the rows of my ballot. */
  markMine(optionIds) {
    const mine = new Set((optionIds || []).map(String));
    for (const [id, parts] of this.rows) {
      parts.mine.hidden = !mine.has(id);
      parts.row.classList.toggle('is-mine', mine.has(id));
    }
  }
}
