"""Nothing identifying leaves by another door: a whole run of a study whose transcripts
carry unreviewed identifying details, then every output file searched for each of them.

One item of each kind the disclosure check reports (NHS number, phone number, street
address, postcode, a full name with accents) is planted in facilitator talk and in
participant talk of a copy of the small fixture study — in many participant turns, so the
items reach theme labels, keywords and quotes and would show up in every page and table
if nothing masked them. `make all` then runs the study. Files that stay on this machine
by design (docs/disclosure_check.md, "Which files carry what") keep the transcripts' words;
every other file must hold none of the planted items, in any spelling a page may use
(HTML entities, JSON escapes, other spacing of the digits).
"""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess

import pandas as pd
import pytest

from conftest import ROOT

#: Runs `make`, a notebook, a browser or a whole study: left out of `make test-fast`.
pytestmark = pytest.mark.slow

SMALL_STUDY = ROOT / "tests" / "fixtures" / "small_study"

#: One of each kind, as planted, and the spellings of it that must not appear anywhere.
PLANTED = {
    "NHS number": "943 476 5919",
    "phone number": "07700 900123",
    "street address": "14 Acacia Road",
    "UK postcode": "LS6 2QT",
    "personal name": "Siân Llewellyn",
}
SENTENCES = [
    "My NHS number is 943 476 5919, they asked for it every single day.",
    "They rang me on 07700 900123 whenever the machine broke down.",
    "The letters still went to 14 Acacia Road after I moved.",
    "We live near LS6 2QT so the bus was easy enough.",
    "Dr Siân Llewellyn explained the planning scan to me properly.",
]
#: Pieces that identify on their own: the surname, the street's name, the digits unspaced.
ALSO_FORBIDDEN = ["Llewellyn", "Acacia", "9434765919", "07700900123"]

#: What stays on this machine: the reviewer's inputs and the analysis in the transcripts'
#: own words (never shared, never shown to a room).
STAYS_ON_THIS_MACHINE = ("utterances.parquet", "segments.parquet", "embeddings.npy", "disclosures.csv",
                         "ingest_warnings.csv", "notebooks/", "cache/", "models/", ".study.mk")


def plant(folder):
    """Copy the small study into ``folder``, planting every item in each facilitator turn
    and one item (in turn) at the end of each participant turn."""
    shutil.copytree(SMALL_STUDY, folder)
    k = 0
    for transcript in sorted(folder.glob("*.txt")):
        lines = []
        for line in transcript.read_text(encoding="utf-8").splitlines():
            speaker = line.split(":", 1)[0]
            if speaker in ("Facilitator", "Interviewer", "Lecturer"):
                line += " For the record: " + " ".join(SENTENCES)
            elif ":" in line:
                line += " " + SENTENCES[k % len(SENTENCES)]
                k += 1
            lines.append(line)
        transcript.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return folder / "study.yml"


def _needle_pattern(item: str) -> re.Pattern:
    """``item`` in any case, with any spacing or separators between its digits."""
    if re.fullmatch(r"[\d ]+", item):
        return re.compile(r"[\s().+-]*".join(d for d in item if d.isdigit()))
    return re.compile(r"\s+".join(re.escape(w) for w in item.split()), re.IGNORECASE)


NEEDLES = {item: _needle_pattern(item) for item in [*PLANTED.values(), *ALSO_FORBIDDEN]}


def readable_text(path) -> str | None:
    """The text a person could read in ``path``: text files decoded, with HTML entities
    and JSON escapes undone; parquet tables as CSV; None for pictures and arrays."""
    if path.suffix in (".png", ".npy", ".pkl", ".safetensors", ".bin"):
        return None
    if path.suffix == ".parquet":
        return pd.read_parquet(path).to_csv(index=False)
    text = path.read_bytes().decode("utf-8", errors="replace")
    text = re.sub(r"\\u([0-9a-fA-F]{4})", lambda m: chr(int(m.group(1), 16)), text)
    return html.unescape(html.unescape(text))


def stays_on_this_machine(rel: str) -> bool:
    return any(rel == name or rel.startswith(name) for name in STAYS_ON_THIS_MACHINE)


@pytest.fixture(scope="module")
def planted_run(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("leak")
    study = plant(tmp / "study")
    out = tmp / "out"
    env = {k: v for k, v in os.environ.items()
           if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL", "COMPENDIUM_STUDY", "COMPENDIUM_OUTPUT_DIR")}
    run = subprocess.run(["make", "--no-print-directory", "all", f"STUDY={study}", f"OUTPUT_DIR={out}"],
                         cwd=ROOT, env=env, capture_output=True, text=True)
    return {"run": run, "out": out, "study": study}


def test_the_planted_items_are_found_in_both_roles(planted_run):
    """The premise: the check reports each planted item, said by a facilitator and by a participant."""
    found = pd.read_csv(planted_run["out"] / "disclosures.csv", keep_default_na=False)
    for kind, item in PLANTED.items():
        rows = found[(found["kind"] == kind) & found["match"].str.contains(item, case=False, regex=False)]
        roles = {"facilitator" if s in ("Facilitator", "Interviewer", "Lecturer") else "participant"
                 for s in rows["speaker"]}
        assert roles == {"facilitator", "participant"}, f"{kind} {item!r} found for {roles or 'nobody'}"
    assert set(found["status"]) == {"unresolved"}


def test_no_planted_item_is_in_any_file_that_leaves_or_is_shown(planted_run):
    run, out = planted_run["run"], planted_run["out"]
    assert run.returncode == 0, run.stdout[-3000:] + run.stderr[-3000:]
    checked, leaks = [], []
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        rel = path.relative_to(out).as_posix()
        if stays_on_this_machine(rel):
            continue
        text = readable_text(path)
        if text is None:
            continue
        checked.append(rel)
        leaks += [f"{rel}: {item!r}" for item, pattern in NEEDLES.items() if pattern.search(text)]
    assert not leaks, "identifying details left by another door:\n" + "\n".join(leaks)
    # the pages and tables people see were written (masked), not skipped
    for name in ("report.html", "workshop_board.html", "workshop_packs/workshop_1.html", "group_themes.csv",
                 "integrated_themes.csv", "figures/thematic_map.html", "figures/theme_lineage.html"):
        assert name in checked, f"{name} was not written"
    themes = pd.read_csv(out / "group_themes.csv", keep_default_na=False).to_csv(index=False)
    assert "[name]" in themes and "[NHS number]" in themes, "the planted items should reach the quotes, masked"


def test_the_pages_shown_to_a_room_carry_a_warning(planted_run):
    out = planted_run["out"]
    for name in ("workshop_board.html", "workshop_packs/workshop_1.html"):
        page = (out / name).read_text(encoding="utf-8")
        warning = r'role=["\']alert["\']>(?:⚠ )?\d+ possible identifying detail\(s\)[^<]*not yet reviewed'
        assert re.search(warning, page), name
    assert not list((out / "export").glob("*.qdpx")), "the QDA export must be withheld"
    assert (out / "export_status.txt").read_text(encoding="utf-8").startswith("No export written")


def test_the_run_ends_with_one_line_saying_what_was_masked_and_withheld(planted_run):
    """Exit status 0: the run finished and everything it wrote is safe to share (masked or
    withheld); the last line says what still needs a reviewer (docs/disclosure_check.md)."""
    run = planted_run["run"]
    assert run.returncode == 0
    last = run.stdout.strip().splitlines()[-1]
    assert re.fullmatch(r"⚠ \d+ possible identifying detail\(s\) in \S+disclosures\.csv are unresolved: masked as "
                        r"\[NHS number\], \[address\], \[name\], \[phone number\], \[postcode\] in the report, "
                        r"workshop packs, board, maps and shared tables; the QDA export is withheld\. .+", last), last

