// The kinds of question, by the name the server gives them (Poll `kind`): the one
// place the pages learn what a kind looks like. The audience's ballot (poll-view.js),
// the results chart (chart.js, on every page that draws one), the poll form
// (poll-form.js), "Fix wording" (manage.js) and the poll list ask the kind's component
// here and assume nothing of any kind. Adding a kind: its file in this folder and its
// line below (and its server half, app/kinds/).
//
// A component (see choice.js, rating.js, ranking.js) is an object with:
//   pick            the poll form's words for it ("Rating scale")
//   hasOptions      whether the poll has options (the form's answers editor)
// The audience's ballot. A ballot is what `my_vote` holds: option ids (a ranking's in
// order, first choice first) or a rating's `[value]`; `state.picks` is one not sent yet.
//   message(ballot)            the VOTE message's ballot fields
//   same(a, b)                 whether two ballots are the same vote (null: none)
//   ready(poll, picks)         whether the submit button may send `picks` (false: a tap votes)
//   build(view), render(view)  the controls in the view's `#choices`: built once per
//                              poll, then kept in step with `view.state` (poll-view.js)
//   instructions(poll, voted)  what to do, in a sentence
//   verdict(poll, ballot)      once closed, a word on my ballot ('' for none; a quiz's)
//   scored          (optional) true: the kind has a leaderboard, and a closed poll's page
//                   shows my points from it (a quiz)
//   errors(poll)               words for the vote error codes of this kind
// The results:
//   rows(poll)                       the chart's rows: [{key, label, sub?, optionId?}]
//   tally(poll, counts, total)       {cells: Map key → {count, pct, share, lead},
//                                    order: [keys] or null (rows' order), summary}
//   mine(poll, ballot)               Map key → words for my ballot's rows
//   describe(poll)                   the poll in a few words for the list of polls
// The forms:
//   form()    null, or this kind's part of the poll form: {node, fill(poll),
//             body(body, {editing, saved, nOptions}), optionsChanged(n)}
//   wording(poll, prefix)  "Fix wording"'s fields: {node, body()}

import { multiple, single } from './choice.js';
import { quiz } from './quiz.js';
import { ranking } from './ranking.js';
import { rating } from './rating.js';

export const KINDS = {
  single,
  multiple,
  rating,
  ranking,
  quiz,
};

/** The component of a kind name; an unknown name (a newer server) reads as single. */
export function kindOf(name) {
  return Object.hasOwn(KINDS, name) ? KINDS[name] : single;
}
