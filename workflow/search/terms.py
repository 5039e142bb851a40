"""Danish words: stems, stop words and the search syntax (phrases in quotes, prefix with *).

PostgreSQL does this itself (the 'danish' text search configuration, Snowball's Danish stemmer
and stop words); SQLite's index is fed the same stems from here, so both find the same
documents. The highlighter uses these stems to mark the words a query matched.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

# Snowball's Danish stop words (the list PostgreSQL's danish.stop ships).
_STOP_LIST = """
    og i jeg det at en den til er som på de med han af for ikke der var mig sig men et har om
    vi min havde ham hun nu over da fra du ud sin dem os op man hans hvor eller hvad skal selv
    her alle vil blev kunne ind når være dog noget ville jo deres efter ned skulle denne end
    dette mit også under have dig anden hende mine alt meget sit sine vor mod disse hvis din
    nogle hos blive mange ad bliver hendes været thi jer sådan
"""
STOP_WORDS = frozenset(_STOP_LIST.split())
# A word: letters and digits (not the underscore).
WORD = re.compile(r"[^\W_]+")
PHRASE = re.compile(r'"([^"]*)"?')
MAX_TERMS = 12


@lru_cache(maxsize=1)
def _stemmer() -> Any:
    """Snowball's Danish stemmer, made on first use (not when the app starts: cold start)."""
    import snowballstemmer

    return snowballstemmer.stemmer("danish")


@lru_cache(maxsize=65536)
def stem(word: str) -> str:
    """The Danish stem of one lower-case word ("genoptræningen" -> "genoptræning")."""
    result: str = _stemmer().stemWord(word)
    return result


def words(text: str) -> list[str]:
    """The words of `text`, lower-cased."""
    return [word.lower() for word in WORD.findall(text)]


def stems(text: str) -> list[str]:
    """The stems of `text`'s words, stop words left out, in order."""
    return [stem(word) for word in words(text) if word not in STOP_WORDS]


def indexed(text: str) -> str:
    """What SQLite's FTS5 table holds for `text`: its stems, separated by spaces."""
    return " ".join(stems(text))


@dataclass(frozen=True)
class Term:
    """One part of a query: a word, a phrase (several words in order) or a prefix."""

    text: str  # as the user wrote it (for PostgreSQL, which stems it itself)
    stems: tuple[str, ...]
    prefix: bool = False

    @property
    def phrase(self) -> bool:
        return len(self.stems) > 1


def parse(query: str) -> list[Term]:
    """The terms of a query: "quoted words" are a phrase, a word ending in * a prefix, other
    words must all occur (in any inflection). Stop words alone and other signs are ignored."""
    terms: list[Term] = []
    for quoted in PHRASE.findall(query):
        found = [word for word in words(quoted) if word not in STOP_WORDS]
        if found:
            terms.append(Term(" ".join(words(quoted)), tuple(stem(w) for w in found)))
    rest = PHRASE.sub(" ", query)
    for match in re.finditer(r"([^\W_]+)(\*?)", rest):
        word = match.group(1).lower()
        if word in STOP_WORDS:
            continue
        terms.append(Term(word, (stem(word),), prefix=bool(match.group(2))))
    unique = list(dict.fromkeys(terms))
    return unique[:MAX_TERMS]
