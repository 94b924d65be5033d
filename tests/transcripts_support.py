"""What the tests of helpers.transcripts share: where the fixtures are, small readers and
writers, and the check that an error is one sentence naming the file and the line.

Fixtures live in tests/fixtures/transcripts/ (bad inputs under bad/, transcripts once
misread under misread/). The .docx, .xlsx and byte-exact text fixtures are built by
make_binary_fixtures.py in that folder.
"""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd

from helpers.transcripts import DeclaredSpeakers, TranscriptError, read_transcript

FIXTURES = Path(__file__).parent / "fixtures" / "transcripts"
BAD = FIXTURES / "bad"
NAN = math.nan
MISREAD = FIXTURES / "misread"

DECLARED = DeclaredSpeakers(("Interviewer",), ("Morag", "Jude"), True, "focus group FG03 of study.yml")


def read(name: str) -> pd.DataFrame:
    return read_transcript(FIXTURES / name)


def starts(df: pd.DataFrame) -> list[float]:
    """start_s as a list, with NaN kept comparable through pytest.approx(nan_ok=True)."""
    return df["start_s"].tolist()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def assert_message(error: TranscriptError, path: Path, line: str | None, *fragments: str):
    message = str(error)
    assert message.startswith(str(path))
    if line:
        assert f"{path}, {line}:" in message
    for fragment in fragments:
        assert fragment in message
    # One sentence: a single full stop at the end.
    assert message.endswith(".") and ". " not in message


def warnings_of(df: pd.DataFrame, kind: str) -> list[dict]:
    return [w for w in df.attrs["warnings"] if w["kind"] == kind]


def pairs(df: pd.DataFrame) -> list[tuple[str, str]]:
    return list(zip(df["speaker"], df["text"]))
