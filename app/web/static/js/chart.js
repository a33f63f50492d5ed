// The live results chart, shared by the audience, presenter, projector and session
// pages: a bar per row, with the numbers the poll's kind gives (kinds/index.js) and,
// below the bars, the kind's summary line (a rating's average, how a ranking scores).
//
// Rows are built once per set of rows and then only updated in place: the numbers sit
// in fixed-width tabular columns and the bars change width only, so a moving tally
// never shifts the layout (or a focused control) on screen. Only a ranking's standings
// move rows, when the order changes.

import { h, setText } from './dom.js';
import { kindOf } from './kinds/index.js';

export class ResultsChart {
  /** @param {HTMLOListElement} list  an empty <ol> to fill (the summary goes after it) */
  constructor(list) {
    this.list = list;
    this.key = '';
    this.poll = null;
    this.rows = new Map();
    this.summary = h('p', { class: 'chart-summary', hidden: true });
    list.after(this.summary);
  }

  get rowCount() {
    return this.rows.size;
  }

  /** Build the rows of `poll` (null: none); unchanged rows keep their elements. */
  setPoll(poll) {
    this.poll = poll;
    const rows = poll ? kindOf(poll.kind).rows(poll) : [];
    const key = `${poll ? poll.kind : ''}|${rows.map((r) => `${r.key}:${r.label}:${r.sub || ''}`).join('\n')}`;
    if (key === this.key) return;
    this.key = key;
    this.rows.clear();
    this.summary.hidden = true;
    this.list.replaceChildren(
      ...rows.map((spec) => {
        const count = h('span', { class: 'count', text: '0' });
        const pct = h('span', { class: 'pct', text: '0%' });
        const fill = h('span', { class: 'fill' });
        const mine = h('span', { class: 'mine', text: 'your vote', hidden: true });
        const dataset = { key: spec.key };
        if (spec.optionId !== undefined) dataset.optionId = String(spec.optionId);
        const row = h(
          'li',
          { class: 'row', dataset },
          h(
            'div',
            { class: 'row-head' },
            h(
              'span',
              { class: 'label' },
              h('span', { class: 'label-text', text: spec.label }),
              mine,
              spec.sub ? h('span', { class: 'label-sub', text: spec.sub }) : null,
            ),
            h('span', { class: 'nums' }, count, pct),
          ),
          h('span', { class: 'bar', 'aria-hidden': 'true' }, fill),
        );
        this.rows.set(spec.key, { row, count, pct, fill, mine });
        return row;
      }),
    );
  }

  /** Show `counts` (the poll's count fields) of `total` voters; null counts blank the bars. */
  update(counts, total) {
    if (!this.poll) return;
    const tally = counts ? kindOf(this.poll.kind).tally(this.poll, counts, total) : null;
    for (const [key, parts] of this.rows) {
      const cell = tally ? tally.cells.get(key) : null;
      setText(parts.count, cell ? cell.count : '–');
      setText(parts.pct, cell ? cell.pct : '');
      parts.fill.style.width = `${((cell ? cell.share : 0) * 100).toFixed(2)}%`;
      parts.row.classList.toggle('leading', Boolean(cell && cell.lead));
    }
    if (tally && tally.order) this.reorder(tally.order);
    this.summary.hidden = !(tally && tally.summary);
    setText(this.summary, tally ? tally.summary : '');
  }

  reorder(order) {
    const now = [...this.list.children].map((row) => row.dataset.key);
    if (now.join('\n') === order.join('\n')) return;
    this.list.append(...order.map((key) => this.rows.get(key).row));
  }

  /** Mark the rows of my ballot (`my_vote`'s form). */
  markMine(ballot) {
    const mine = this.poll ? kindOf(this.poll.kind).mine(this.poll, ballot) : new Map();
    for (const [key, parts] of this.rows) {
      const words = mine.get(key);
      parts.mine.hidden = !words;
      if (words) setText(parts.mine, words);
      parts.row.classList.toggle('is-mine', Boolean(words));
    }
  }
}
