"""The stop lists of what themes are described and matched by, each named for the rule it
serves: the words keywords and labels leave out (:data:`TRANSCRIPT_STOP_LISTS`, with the
speakers' pseudonyms) and the words that do not count when a framework behaviour is matched
to a quote (:data:`BEHAVIOUR_QUOTE_STOP_WORDS`). Which turns are backchannels, analysed not
at all, is decided with the segments (``BACKCHANNEL_WORDS``, :mod:`helpers.transcripts.talk`)."""

from __future__ import annotations

import re
from dataclasses import replace

import pandas as pd

from ..transcripts import BACKCHANNEL_WORDS
from .settings import ThemeSettings

#: Words of transcribed talk that say nothing about what a theme is about, by kind. Their
#: union (with scikit-learn's English stop words and the speakers' pseudonyms) is the one
#: stop list of keywords and labels; notebook 04 shows it.
TRANSCRIPT_STOP_LISTS: dict[str, frozenset[str]] = {
    "fillers and backchannels": frozenset("""
        um umm er erm uh ah oh mm mmm mhm hmm yeah yep yes no okay ok aye blah ooh eh huh
        like know mean just really actually basically literally well right cos anyway
        """.split()) | BACKCHANNEL_WORDS,
    "hedges and quantities": frozenset("""
        kind sort bit lot lots quite maybe probably definitely absolutely exactly guess
        little bits loads pretty fairly totally certainly obviously honestly generally
        """.split()),
    "evaluative words (how, not what)": frozenset("""
        good better best bad worse worst nice lovely fine great brilliant awful terrible funny
        daft silly weird odd strange liked like likes love loved hate hated amazing wonderful
        fantastic horrible dreadful okay alright interesting important different difficult hard
        easy big huge massive small real proper
        """.split()),
    "generic verbs and nouns of talk": frozenset("""
        thing things stuff got get gets getting go goes going gone went come comes coming came
        say says said saying tell told think thought feel felt want wanted need needed way
        does did do make makes made let lets day days time times people person years year
        put puts take takes took try tried look looked looking bring brought use used
        """.split()),
    "contractions and transcription marks": frozenset("""
        ve ll re don didn doesn isn wasn aren weren couldn wouldn shouldn ain gonna wanna gotta
        laughs laughter crosstalk inaudible pause sighs coughs overlapping
        """.split()),
}
TRANSCRIPT_STOP_WORDS = frozenset().union(*TRANSCRIPT_STOP_LISTS.values())


def stop_list_table() -> pd.DataFrame:
    """The transcript stop list by kind (what keywords and labels leave out)."""
    return pd.DataFrame([{"kind": kind, "words": ", ".join(sorted(words))} for kind, words in
                         TRANSCRIPT_STOP_LISTS.items()]).set_index("kind")


def stop_words_of(settings: ThemeSettings) -> frozenset[str]:
    """The one stop list of a group's keywords and labels: scikit-learn's English stop
    words, the transcript lists and ``settings.extra_stop_words`` (the speakers' pseudonyms)."""
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    return frozenset(ENGLISH_STOP_WORDS | TRANSCRIPT_STOP_WORDS | set(settings.extra_stop_words))


def with_speaker_stop_words(segments: pd.DataFrame, settings: ThemeSettings) -> ThemeSettings:
    """Pseudonyms say who spoke, not what about: keep them out of keywords and labels."""
    names = {w.lower() for s in segments["speaker"].unique() for w in re.findall(r"[A-Za-z]+", str(s))}
    return replace(settings, extra_stop_words=tuple(sorted(set(settings.extra_stop_words) | names)))


#: Words that do not count when a framework behaviour is matched to the quote sharing most of
#: its content words (:func:`helpers.coproduction.content_stems`). A list of its own because
#: behaviours are worded with words the transcript list drops ("kind", "time", "feel", "make").
BEHAVIOUR_QUOTE_STOP_WORDS = frozenset("""
    a about after all also am an and any are as at be because been but by can could did do does doing for from had has
    have he her here him his how i if in into is it its just me more most my no not of on once only or other our out
    over own same she should so some such than that the their them then there these they this those through to too
    under until up very was we were what when where which while who whom why will with would you your yours
    person patient patients people one ones
    """.split())
