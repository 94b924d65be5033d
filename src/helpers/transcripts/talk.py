"""The talk-word rule: which words of a turn count as talk, and which turns are only a
backchannel ('Yeah.', 'Mm, same.', '[laughs]') with nothing to analyse on their own.

Ingest uses it to stop on a participant group with no talk; segments (``embeddings``),
word counts (``describe``) and the keyword stop list (``themes``) use the same rule.
"""

from __future__ import annotations

import re

from .annotations import strip_annotations

#: Tokens that carry no content on their own in spoken English.
BACKCHANNEL_WORDS = frozenset("""
yeah yes yep yup no nope mm mmm mhm hmm hm um umm er erm uh ah oh ok okay right sure
same true exactly definitely absolutely totally agreed agree god gosh wow so and but
i me too that's thats it is was yeah, really well like you know mean just the a oh,
lol ha haha cheers thanks thank
""".split())

_WORD = re.compile(r"[A-Za-z0-9’']+")


def count_words(text: str) -> int:
    return len(_WORD.findall(text))


def is_backchannel(text: str) -> bool:
    """True for talk with no analysable content: agreement tokens, fillers, annotations only."""
    words = [w.lower().strip("’'") for w in _WORD.findall(strip_annotations(text))]
    if len(words) < 3:
        return True
    return all(w in BACKCHANNEL_WORDS for w in words)
