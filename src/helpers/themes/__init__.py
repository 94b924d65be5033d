"""Independent thematic analysis per participant group (stage 4 of the process model).

In the study each participant group's data set was analysed on its own before the groups
met. Here each group's themes come from one procedure (:func:`theme_procedure`), run on
the whole group for the reported themes and on seeded resamples for their stability:

1. identical texts are fitted once; Ward's agglomerative clustering of the segment
   embeddings builds one tree, cut into k themes for every candidate k (2 … √(n/2), at
   most 12); segments left out of a fit join the theme with the nearest centroid;
2. R runs on seeded 90% resamples give, for each k, a co-assignment matrix (the share of
   runs in which two segments shared a theme) and the agreement of each run with the
   whole-group themes; k is chosen where that agreement is highest among the k whose
   largest theme holds at most 35% of the group;
3. each theme reports its consensus (mean co-assignment of its members) and is
   ``unstable`` below 0.5; a segment gets a second theme when it sat with that theme's
   members in at least 30% of runs;
4. the themes are handed to BERTopic in its manual mode: c-TF-IDF, KeyBERTInspired, words
   said by two of a theme's speakers and maximal marginal relevance give the keywords; the
   label is the phrase of the theme's talk that points most at its own theme (words and
   phrases embedded with the installed model, never downloaded).

The whole-group fit has no random step, so the themes do not depend on the seed (only
the choice of k can, when two k are equally stable). A group's themes depend on that
group's segments only. What comes out are *candidate* themes (Braun & Clarke's
"searching for themes"): the workshops of stage 5 review, merge, name and define them.

One module per job: :mod:`.settings` (the knobs, seeds and theme ids), :mod:`.consensus`
(steps 1–3), :mod:`.stop_words` (the stop lists), :mod:`.words` (the keyword vectorizer
and the rules on words shared with the BERTopic model), :mod:`.labels`,
:mod:`.representation` (step 4), :mod:`.group_fit` (one group), :mod:`.tables` (the
stage's tables and quotes), :mod:`.quality` (theme_quality.csv). :mod:`.bertopic_model`
(each group's BERTopic model) and :mod:`.word_checks` import BERTopic, so they are not
imported here: ``from helpers.themes import bertopic_model``. The 2-D positions of the
segment maps are :mod:`helpers.maps.projection`.
"""

from .consensus import (
    PARALLEL_MIN_SEGMENTS,
    Consensus,
    ConsensusRuns,
    checked_n_themes,
    choice_of_k,
    coassignment,
    consensus_themes,
    distinct_texts,
    fit_rows,
    jobs_for,
    pac,
    relabel_by_size,
    second_themes,
    theme_consensus,
    theme_procedure,
    with_each_theme,
)
from .group_fit import (
    SMALL_GROUP,
    GroupFit,
    anchored_topics,
    fit_group,
    merge_tree,
    relabel_hierarchy,
    theme_caveat,
)
from .labels import (
    N_CANDIDATE_PHRASES,
    candidate_phrases,
    choose_labels,
    label_from_keywords,
    margins,
    nearest_theme,
    readable_label,
    theme_centres,
)
from .quality import (
    MODEL_NAMES,
    NOT_APPLICABLE,
    best_match_jaccard,
    coherence,
    coherence_tokens,
    group_turns,
    kmeans_baseline,
    lda_baseline,
    quality_summary,
    theme_quality,
    topic_tokens,
)
from .representation import Description, describe
from .settings import CLUSTER_MAX_SEGMENTS, NO_THEME, ThemeSettings, run_seed, theme_id
from .stop_words import (
    BEHAVIOUR_QUOTE_STOP_WORDS,
    TRANSCRIPT_STOP_LISTS,
    TRANSCRIPT_STOP_WORDS,
    stop_list_table,
    stop_words_of,
    with_speaker_stop_words,
)
from .tables import (
    ASSIGNMENT_COLUMNS,
    THEME_COLUMNS,
    GroupThemes,
    analyse_groups,
    format_quote,
    pick_quotes,
    quotes_of,
    save_models,
)
from .words import MIN_SPEAKERS, distinct_words, make_vectorizer, speaker_keys

__all__ = [
    "ASSIGNMENT_COLUMNS", "BEHAVIOUR_QUOTE_STOP_WORDS", "CLUSTER_MAX_SEGMENTS", "MIN_SPEAKERS", "MODEL_NAMES",
    "N_CANDIDATE_PHRASES", "NO_THEME", "NOT_APPLICABLE", "PARALLEL_MIN_SEGMENTS", "SMALL_GROUP", "THEME_COLUMNS",
    "TRANSCRIPT_STOP_LISTS", "TRANSCRIPT_STOP_WORDS", "analyse_groups", "anchored_topics", "best_match_jaccard",
    "candidate_phrases", "checked_n_themes", "choice_of_k", "choose_labels", "coassignment", "coherence",
    "coherence_tokens", "Consensus", "consensus_themes", "ConsensusRuns", "describe", "Description", "distinct_texts",
    "distinct_words", "fit_group", "fit_rows", "format_quote", "group_turns", "GroupFit", "GroupThemes", "jobs_for",
    "kmeans_baseline", "label_from_keywords", "lda_baseline", "make_vectorizer", "margins", "merge_tree",
    "nearest_theme", "pac", "pick_quotes", "quality_summary", "quotes_of", "readable_label", "relabel_by_size",
    "relabel_hierarchy", "run_seed", "save_models", "second_themes", "speaker_keys", "stop_list_table",
    "stop_words_of", "theme_caveat", "theme_centres", "theme_consensus", "theme_id", "theme_procedure",
    "theme_quality", "ThemeSettings", "topic_tokens", "with_each_theme", "with_speaker_stop_words",
]
