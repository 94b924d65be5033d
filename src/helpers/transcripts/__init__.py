"""Read focus-group transcripts, whatever their format, into one tidy table of turns.

Transcripts arrive the way transcribers and meeting tools deliver them: Word documents,
Teams or Zoom captions, Otter.ai exports, spreadsheets, or plain text typed by hand in one
of several layouts. ``read_transcript(path)`` recognises the layout from the file's
content (not just its extension) and returns one row per speaker turn with the columns
``speaker``, ``text``, ``turn``, ``line`` and ``start_s``. Anything it cannot read raises
``TranscriptError``, whose one-sentence message names the file, the line, what is wrong
and how to fix it, so a researcher can repair the file without reading this code.

Supported layouts, in the order they are checked (see ``SUPPORTED_FORMATS``):

- ``docx``   Word: ``Speaker: text`` paragraphs (or lines, split by Shift+Enter), bold speaker
  names, or a two-column table.
- ``xlsx``   Excel, every sheet with ``speaker`` and ``text`` columns (optional ``start``), in order.
- ``csv``/``tsv``  the same columns in a comma, semicolon or tab separated file.
- ``webvtt`` Teams (``<v Name>text</v>``) or Zoom (``Name: text``) captions, read with
  webvtt-py.
- ``srt``    subtitles with ``Name: text`` payloads, cue numbers optional (any file with
  timing lines and no WEBVTT header), read with the ``srt`` package.
- ``otter``  Otter.ai text export (``Name  0:03`` headings above the text).
- ``typed``  a ``Name:`` line on its own above the turn's text.
- ``plain``  ``Name: text`` lines, with unlabelled lines continuing the turn.

One module per job: :mod:`.loading` (the file, its :mod:`.encodings`, its format), one
parser per layout (:mod:`.plain`, :mod:`.otter`, :mod:`.captions`, :mod:`.word_documents`,
:mod:`.spreadsheets`), :mod:`.labels` (what is a speaker label), :mod:`.speakers` (labels
against study.yml), :mod:`.checks` (turns pasted twice, lost line breaks), :mod:`.reading`
(the tidy table), :mod:`.ingest` (the whole study); :mod:`.annotations` and :mod:`.talk`
(the talk-word rule) are shared with the later stages.
"""

from ._common import COLUMNS, SUPPORTED_FORMATS, WARNING_COLUMNS, TranscriptError
from .annotations import ANNOTATION_RE, strip_annotations
from .ingest import INGEST_WARNING_COLUMNS, UTTERANCE_COLUMNS, Ingested, ingest_study, read_study_turns
from .reading import detect_format, read_transcript
from .speakers import DeclaredSpeakers
from .talk import BACKCHANNEL_WORDS, count_words, is_backchannel

__all__ = [
    "ANNOTATION_RE",
    "BACKCHANNEL_WORDS",
    "COLUMNS",
    "INGEST_WARNING_COLUMNS",
    "SUPPORTED_FORMATS",
    "UTTERANCE_COLUMNS",
    "WARNING_COLUMNS",
    "DeclaredSpeakers",
    "Ingested",
    "TranscriptError",
    "count_words",
    "detect_format",
    "ingest_study",
    "is_backchannel",
    "read_study_turns",
    "read_transcript",
    "strip_annotations",
]
