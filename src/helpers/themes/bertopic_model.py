"""Each participant group's themes as a fitted BERTopic model (stage 4 of the process model).

The compendium finds a group's themes by consensus clustering (:mod:`helpers.themes.consensus`);
this module hands those themes to BERTopic's *manual* mode, so the words that describe
them, and the model a researcher opens afterwards, are BERTopic's own:

* the consensus themes are the labels ``y``; :class:`~bertopic.dimensionality.BaseDimensionalityReduction`
  keeps the embeddings as they are and :class:`~bertopic.cluster.BaseCluster` returns ``y``,
  so BERTopic's topics *are* the compendium's themes (members, ids and fingerprints untouched);
* the segment embeddings of notebook 03 are passed in; the installed sentence-transformers
  model (never downloaded) embeds only words, phrases and representative documents;
* words are counted by a ``CountVectorizer`` with the transcript stop words and weighted by
  ``ClassTfidfTransformer`` (c-TF-IDF);
* the keywords come from a chain of representation models: ``KeyBERTInspired`` ranks the
  c-TF-IDF candidates by closeness to the theme's talk, :class:`VoicedBySeveral` keeps
  words at least two of the theme's speakers said (one person's anecdote is not a theme's
  word) and no word twice, :class:`PointsAtItsTheme` those nearer the theme than any other
  theme of the group, ``MaximalMarginalRelevance`` ten that do not repeat each other.

Each model is saved with safetensors, its c-TF-IDF kept and the embedding model named by
its installed folder, so ``BERTopic.load`` works in a fresh, offline kernel.

Importing this module imports BERTopic (and with it torch); :mod:`helpers.themes` imports it
only when it fits themes (:func:`helpers.themes.representation.describe`). The labels are
chosen in :mod:`helpers.themes.labels`, the check of labels and keywords is
:mod:`helpers.themes.word_checks`.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from bertopic import BERTopic
from bertopic.backend import BaseEmbedder
from bertopic.cluster import BaseCluster
from bertopic.dimensionality import BaseDimensionalityReduction
from bertopic.representation import BaseRepresentation, KeyBERTInspired, MaximalMarginalRelevance
from bertopic.vectorizers import ClassTfidfTransformer

from .._io import write_text_atomic
from ..embeddings import DEFAULT_MODEL, load_model, resolve_model
from .labels import margins, theme_centres
from .words import MIN_SPEAKERS, distinct_words

#: c-TF-IDF's top words of a theme that KeyBERTInspired ranks by closeness to its talk
N_CANDIDATE_WORDS = 50
#: how much maximal marginal relevance favours keywords unlike those already chosen (0–1)
KEYWORD_DIVERSITY = 0.3


class InstalledEncoder(BaseEmbedder):
    """The installed sentence-transformers model as BERTopic's embedding model.

    The encoder pads a batch to its longest text, so a vector differs in its last bits with
    its batch neighbours. Texts are therefore encoded once each, in sorted order, and kept:
    a word's vector does not depend on the order BERTopic lists the words in."""

    def __init__(self, model: str = DEFAULT_MODEL):
        super().__init__()
        self.path = resolve_model(model)
        self.embedding_model = load_model(model)
        self._vectors: dict[str, np.ndarray] = {}

    def embed(self, documents, verbose: bool = False) -> np.ndarray:
        texts = [str(d) for d in documents]
        missing = sorted(set(texts) - set(self._vectors))
        if missing:
            fresh = self.embedding_model.encode(missing, batch_size=64, convert_to_numpy=True,
                                                normalize_embeddings=True, show_progress_bar=False)
            self._vectors.update(zip(missing, np.asarray(fresh, dtype=np.float32)))
        dim = self.embedding_model.get_embedding_dimension()
        return np.vstack([self._vectors[t] for t in texts]) if texts else np.zeros((0, dim), dtype=np.float32)


_ENCODERS: dict[str, InstalledEncoder] = {}


def encoder(model: str = DEFAULT_MODEL) -> InstalledEncoder:
    """One encoder per model and process (its vectors are reused across groups)."""
    key = str(resolve_model(model))
    if key not in _ENCODERS:
        _ENCODERS[key] = InstalledEncoder(model)
    return _ENCODERS[key]


class VoicedBySeveral(BaseRepresentation):
    """A representation step that keeps a theme's words said by several of its speakers.

    ``speakers``: who said each document (in the order the model was fitted on). A word
    stays when at least ``min_speakers`` of the theme's speakers said it (all of them when
    the theme has fewer), and when it shares no word with a word kept before it."""

    def __init__(self, speakers: list[str], min_speakers: int = MIN_SPEAKERS):
        self.speakers = [str(s) for s in speakers]
        self.min_speakers = min_speakers

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics):
        analyzer = topic_model.vectorizer_model.build_analyzer()
        updated = {}
        for topic, words in topics.items():
            rows = documents.loc[documents["Topic"] == topic, ["ID", "Document"]]
            said_by: dict[str, set] = {}
            for row, text in zip(rows["ID"], rows["Document"]):
                for term in set(analyzer(str(text))):
                    said_by.setdefault(term, set()).add(self.speakers[int(row)])
            needed = min(self.min_speakers, len({self.speakers[int(r)] for r in rows["ID"]}))
            voiced = [(w, s) for w, s in words if w and len(said_by.get(w, ())) >= needed]
            kept = [voiced[i] for i in distinct_words(range(len(voiced)), [w for w, _ in voiced], len(voiced))]
            # no word left: BERTopic's own placeholder for a missing word (its tables expect one entry)
            updated[topic] = kept or [("", 1e-05)]
        return updated


class PointsAtItsTheme(BaseRepresentation):
    """A representation step that keeps a theme's words nearer its own centre than any other
    theme's of the group (:func:`margins` above 0; ``centres``: the themes' centres in the
    embedding space). A theme none of whose words does keeps them all: its words then
    describe it as well as they can, and the check in ``make validity`` shows it."""

    def __init__(self, centres: np.ndarray):
        self.centres = np.asarray(centres, dtype=np.float64)

    def extract_topics(self, topic_model, documents: pd.DataFrame, c_tf_idf, topics):
        updated = {}
        for topic, words in topics.items():
            present = [(w, s) for w, s in words if w]
            if not present or self.centres.shape[0] < 2:
                updated[topic] = words
                continue
            ahead = margins(topic_model.embedding_model.embed([w for w, _ in present]), self.centres, int(topic)) > 0
            updated[topic] = [ws for ws, keep in zip(present, ahead) if keep] or words
        return updated


class GivenThemes(BERTopic):
    """BERTopic that keeps the ids of the themes it is fitted on (``y``).

    The themes come numbered by size already; BERTopic renumbers topics by size after
    clustering with a sort that is not stable, so two themes of equal size could swap ids
    and the model would no longer match group_themes.csv. During ``fit`` the numbering is
    kept; everything else (and a model saved and loaded again, a plain ``BERTopic``) behaves
    as BERTopic does."""

    _keep_ids = False

    def fit_transform(self, documents, embeddings=None, images=None, y=None):
        self._keep_ids = True
        try:
            return super().fit_transform(documents, embeddings=embeddings, images=images, y=y)
        finally:
            self._keep_ids = False

    def _sort_mappings_by_frequency(self, documents: pd.DataFrame) -> pd.DataFrame:
        if not self._keep_ids:
            return super()._sort_mappings_by_frequency(documents)
        self._update_topic_size(documents)
        return documents


class ShortListMMR(MaximalMarginalRelevance):
    """BERTopic's ``MaximalMarginalRelevance``, for themes whose list is already no longer
    than ``top_n_words`` too: those are kept as they are (BERTopic's own step expects more
    candidates than it keeps, and fails on fewer)."""

    def extract_topics(self, topic_model, documents, c_tf_idf, topics):
        longer = {t: words for t, words in topics.items() if len(words) > self.top_n_words}
        updated = super().extract_topics(topic_model, documents, c_tf_idf, longer) if longer else {}
        return {t: updated.get(t, words) for t, words in topics.items()}


def build_model(docs: list[str], embeddings: np.ndarray, topics: np.ndarray, speakers: list[str], vectorizer,
                seed: int, top_n_words: int = 10, model: str = DEFAULT_MODEL) -> BERTopic:
    """A BERTopic model fitted in manual mode on a group's consensus themes ``topics``
    (0..k-1, by size), its segment ``embeddings`` and the transcript ``vectorizer``."""
    chain = [KeyBERTInspired(top_n_words=N_CANDIDATE_WORDS, nr_candidate_words=N_CANDIDATE_WORDS,
                             random_state=int(seed) % 2**31),
             VoicedBySeveral(speakers),
             PointsAtItsTheme(theme_centres(embeddings, np.asarray(topics, dtype=int))),
             ShortListMMR(diversity=KEYWORD_DIVERSITY, top_n_words=top_n_words)]
    topic_model = GivenThemes(embedding_model=encoder(model), umap_model=BaseDimensionalityReduction(),
                           hdbscan_model=BaseCluster(), vectorizer_model=vectorizer,
                           ctfidf_model=ClassTfidfTransformer(reduce_frequent_words=True),
                           representation_model=chain, top_n_words=top_n_words, calculate_probabilities=False)
    topic_model.fit(docs, embeddings=np.asarray(embeddings, dtype=np.float32), y=np.asarray(topics, dtype=int))
    if not np.array_equal(np.asarray(topic_model.topics_), np.asarray(topics)):
        raise RuntimeError("BERTopic renumbered the consensus themes; the models would not match group_themes.csv")
    return topic_model


def keywords_of(topic_model: BERTopic) -> dict[int, list[str]]:
    """Each theme's keywords, as the model holds them (no empty padding words)."""
    return {int(t): [w for w, _ in words if w] for t, words in topic_model.get_topics().items() if int(t) >= 0}

# --------------------------------------------------------------------------- saving

#: the file beside a saved model that holds its representative documents
REPRESENTATIVE_DOCS = "representative_docs.json"


def save_models(models: dict[str, BERTopic], folder: Path, model: str = DEFAULT_MODEL) -> Path:
    """Save each group's model as ``folder/<group>/`` (safetensors, c-TF-IDF kept, the
    embedding model named by its installed folder, so loading never downloads). The
    folder is written beside and renamed into place: a half-written set of models never
    stands where a complete one is expected, and a group no longer in the study leaves
    no model behind."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{folder.name}-", dir=folder.parent))
    old = folder.parent / f".{folder.name}-replaced"
    try:
        for group, topic_model in models.items():
            topic_model.save(staging / group, serialization="safetensors", save_ctfidf=True,
                             save_embedding_model=str(resolve_model(model)))
            # safetensors leaves documents out on purpose (they may be sensitive); the
            # maintainer's advice is to keep representative_docs_ beside the model
            write_text_atomic(staging / group / REPRESENTATIVE_DOCS, json.dumps(
                {str(t): docs for t, docs in sorted(topic_model.representative_docs_.items())},
                ensure_ascii=False, indent=1) + "\n")
        if old.exists():
            shutil.rmtree(old)
        if folder.exists():
            folder.rename(old)
        staging.rename(folder)
    finally:
        for leftover in (staging, old):
            if leftover.exists():
                shutil.rmtree(leftover)
    return folder


def load(folder: Path) -> BERTopic:
    """A saved group model (``BERTopic.load``; its embedding model comes from the installed
    folder named in it) with its representative documents, the theme's quotes."""
    topic_model = BERTopic.load(str(folder))
    kept = Path(folder) / REPRESENTATIVE_DOCS
    if kept.is_file():
        topic_model.representative_docs_ = {int(t): d for t, d in json.loads(kept.read_text("utf-8")).items()}
    return topic_model
