"""Highlighted snippets: the words a query matched marked with <mark>, everything else escaped.

The same code serves both databases (so a hit reads the same on SQLite and PostgreSQL); it marks
a word whose Danish stem is a query's stem, or starts with a prefix's stem.
"""

from __future__ import annotations

from markupsafe import Markup, escape

from workflow.search import terms

BEFORE, AFTER = 8, 24  # words shown around the first match


def _matcher(query: list[terms.Term]):  # type: ignore[no-untyped-def]
    exact = {stem for term in query if not term.prefix for stem in term.stems}
    prefixes = tuple(stem for term in query if term.prefix for stem in term.stems)

    def matches(word: str) -> bool:
        lower = word.lower()
        if lower in terms.STOP_WORDS:
            return False
        stem = terms.stem(lower)
        return stem in exact or (bool(prefixes) and stem.startswith(prefixes))

    return matches


def highlight(text: str, query: list[terms.Term], *, whole: bool = False) -> Markup:
    """`text` (or, unless `whole`, a window of it around the first match) with the matched
    words marked."""
    found = list(terms.WORD.finditer(text))
    if not found:
        return Markup(escape(text))
    matches = _matcher(query)
    marked = [matches(token.group()) for token in found]
    first = marked.index(True) if True in marked else 0
    if whole:
        start_token, end_token = 0, len(found) - 1
    else:
        start_token = max(0, first - BEFORE)
        end_token = min(len(found) - 1, first + AFTER)
    start, end = found[start_token].start(), found[end_token].end()
    if whole:
        start, end = 0, len(text)
    parts: list[str] = ["… " if start > 0 else ""]
    position = start
    for token, hit in zip(
        found[start_token : end_token + 1], marked[start_token : end_token + 1], strict=True
    ):
        parts.append(str(escape(text[position : token.start()])))
        word = str(escape(token.group()))
        parts.append(f"<mark>{word}</mark>" if hit else word)
        position = token.end()
    parts.append(str(escape(text[position:end])))
    if end < len(text):
        parts.append(" …")
    return Markup("".join(parts).strip())
