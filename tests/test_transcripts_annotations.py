"""Tests of helpers.transcripts.annotations: transcriber annotations found and stripped.
"""

from __future__ import annotations

import pytest

from helpers.transcripts import ANNOTATION_RE, strip_annotations


@pytest.mark.parametrize(("text", "expected"), [
    ("Yeah, same [laughs].", "Yeah, same."),
    ("[crosstalk] Sorry, go on.", "Sorry, go on."),
    ("It was [inaudible 00:12:01] on the machine.", "It was on the machine."),
    ("So, [pause], anyway", "So, anyway"),
    ("Oh god (Laughter) yes", "Oh god yes"),
    ("Right (sighs) ok (coughs)", "Right ok"),
    ("We were (overlapping) talking", "We were talking"),
    ("(inaudible 0:12:01) fine", "fine"),
    ("My (late) husband", "My (late) husband"),  # not a stage direction: kept
    ("No annotations here.", "No annotations here."),
])
def test_strip_annotations(text, expected):
    assert strip_annotations(text) == expected


def test_annotation_pattern_finds_each_annotation():
    found = [m.group(0) for m in ANNOTATION_RE.finditer(
        "[laughs] a (pause) b [inaudible 00:12:01] c (LAUGHS) d (the mask)")]
    assert found == ["[laughs]", "(pause)", "[inaudible 00:12:01]", "(LAUGHS)"]
