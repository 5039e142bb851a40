"""What-if replay: the last months' cases replayed against a draft definition, another meeting
calendar or another materialefrist, compared with what happened (see docs/whatif.md).

`queries.py` loads the history as plain rows, `replay.py` replays it (a pure computation: it
writes nothing and fires no transition), `scenario.py` parses what the admin changes,
`chart.py` draws the comparison and `views.py` is the admin page.
"""
