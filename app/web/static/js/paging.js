// A list shown a page at a time (GET /polls, GET /sessions: limit, offset, total):
// Newer / Older, "1–20 of N", answers of older loads dropped, and a last page that
// emptied (its items deleted, here or elsewhere) replaced by the new last page.

import { setText } from './dom.js';

export const PAGE_SIZE = 20;

export class Pager {
  /**
   * `fetchPage(params)` resolves to `{items, total}` for the URLSearchParams given
   * (limit and offset set; the caller adds its filters); `draw(page)` shows the items;
   * `failed(err)` shows why a page could not be loaded.
   */
  constructor({ prev, next, range, fetchPage, draw, failed }) {
    Object.assign(this, { prev, next, range, fetchPage, draw, failed });
    this.offset = 0;
    this.loads = 0; // the latest load: older answers are dropped
    prev.addEventListener('click', () => {
      this.offset = Math.max(0, this.offset - PAGE_SIZE);
      this.load();
    });
    next.addEventListener('click', () => {
      this.offset += PAGE_SIZE;
      this.load();
    });
  }

  /** From the first page (a new search or filter). */
  first() {
    this.offset = 0;
    return this.load();
  }

  async load() {
    const load = ++this.loads;
    const params = new URLSearchParams({ limit: String(PAGE_SIZE), offset: String(this.offset) });
    try {
      const page = await this.fetchPage(params);
      if (load !== this.loads) return;
      if (page.items.length === 0 && this.offset > 0 && page.total > 0) {
        this.offset = Math.floor((page.total - 1) / PAGE_SIZE) * PAGE_SIZE;
        this.load();
        return;
      }
      this.draw(page);
      const last = this.offset + page.items.length;
      setText(this.range, page.total ? `${this.offset + 1}–${last} of ${page.total}` : '');
      this.prev.hidden = this.offset === 0;
      this.next.hidden = last >= page.total;
    } catch (err) {
      if (load === this.loads) this.failed(err);
    }
  }
}
