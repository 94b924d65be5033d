"""Small shared pieces: atomic writes, one-sentence user errors, reading table cells."""

from __future__ import annotations

import contextlib
import functools
import math
import os
import tempfile
from pathlib import Path


class UserError(ValueError):
    """An input problem the user can fix; its message is one sentence naming the fix."""


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike):
    """Yield a temporary path beside ``path``; rename it onto ``path`` only on success.

    A crash half-way never leaves a file that looks complete.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, path)
        _journal(path)
    finally:
        if tmp_path.exists():
            tmp_path.unlink()


#: Set by the stage runner (helpers.runner) for a stage's kernel and its workers: every
#: file written atomically is appended to this list, which is how the runner learns the
#: stage's outputs (to withdraw them when the stage reruns, to rerun it when one is deleted).
WRITE_LOG = "COMPENDIUM_WRITE_LOG"


def _journal(path: Path) -> None:
    log = os.environ.get(WRITE_LOG)
    if log:
        # one short O_APPEND write per line: lines from parallel workers do not interleave
        fd = os.open(log, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
        try:
            os.write(fd, (os.path.abspath(path) + "\n").encode("utf-8", "surrogateescape"))
        finally:
            os.close(fd)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(path)


def write_csv_atomic(df, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        df.to_csv(tmp, index=False, lineterminator="\n")
    return Path(path)


def write_parquet_atomic(df, path: str | os.PathLike) -> Path:
    with atomic_path(path) as tmp:
        df.to_parquet(tmp, index=False)
    return Path(path)


def write_npy_atomic(array, path: str | os.PathLike) -> Path:
    import numpy as np

    with atomic_path(path) as tmp:
        with open(tmp, "wb") as handle:
            np.save(handle, array)
    return Path(path)


def smallest_text_pt(fig) -> float:
    """The smallest font size (points, at the figure's own size) of any visible text in ``fig``."""
    from matplotlib.text import Text

    sizes = [t.get_fontsize() for t in fig.findobj(Text) if t.get_visible() and t.get_text().strip()]
    return float(min(sizes, default=0.0))


def save_figure(fig, stem: str | os.PathLike, formats=("png",), dpi: int = 200) -> list[Path]:
    """Write ``fig`` as ``stem.<format>`` for each format, atomically; close the figure.

    Tight bounding box (nothing clipped), white background, no timestamps in SVG/PDF
    metadata, so the same figure gives the same bytes on every run.
    """
    import matplotlib
    import matplotlib.pyplot as plt

    stem = Path(stem)
    written = []
    try:
        for fmt in formats:
            fmt = str(fmt).lower().lstrip(".")
            path = stem.parent / f"{stem.name}.{fmt}"
            metadata = {"svg": {"Date": None}, "pdf": {"CreationDate": None, "ModDate": None},
                        # the report reads these to show the figure where its text is large enough
                        "png": {"min_font_pt": f"{smallest_text_pt(fig):g}"}}.get(fmt)
            with atomic_path(path) as tmp, matplotlib.rc_context({"svg.hashsalt": "helpers.maps"}):
                fig.savefig(tmp, format=fmt, dpi=dpi, bbox_inches="tight", pad_inches=0.15, facecolor="white",
                            metadata=metadata)
            written.append(path)
    finally:
        plt.close(fig)
    return written


# --------------------------------------------------------------------------- YAML files

def read_yaml(path: str | os.PathLike, error: type[UserError] = UserError, what: str = "file"):
    """A YAML file a person edits (study.yml, a workshop file), read strictly: it must be
    UTF-8 and may not give one key twice (YAML would keep the last silently, so a leftover
    ``decisions: []`` under the decisions would erase them). Every problem is one
    sentence naming the file and the line."""
    import yaml

    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        raise error(f"{path}, line {line}: the {what} is not UTF-8 (byte 0x{raw[exc.start]:02x}, as Windows "
                    "or an old Mac writes accented letters and curly quotes); save it as UTF-8 (in Notepad: "
                    "Save as, Encoding UTF-8).") from None
    try:
        return yaml.load(text, Loader=_strict_loader())
    except _DuplicateKey as exc:
        raise error(f"{path}, line {exc.line}: '{exc.key}:' is given twice in the same block (first on line "
                    f"{exc.first}), and YAML would silently keep only the second; merge the two or delete "
                    "one.") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f", line {mark.line + 1}" if mark is not None else ""
        raise error(f"{path}{where}: this is not valid YAML ({getattr(exc, 'problem', None) or exc}); "
                    "check the indentation and colons there.") from None


class _DuplicateKey(Exception):
    def __init__(self, key, line: int, first: int):
        super().__init__(key)
        self.key, self.line, self.first = key, line, first


@functools.cache
def _strict_loader():
    """PyYAML's safe loader, refusing a key given twice in one mapping (built on first
    use, so importing this module does not import yaml)."""
    import yaml

    class StrictLoader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen: dict = {}
            for key_node, _ in node.value:
                if key_node.tag == "tag:yaml.org,2002:merge":  # '<<: *defaults' may be overridden
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    first = seen.get(key)
                except TypeError:  # an unhashable key: let PyYAML report it
                    break
                if first is not None:
                    raise _DuplicateKey(key, key_node.start_mark.line + 1, first)
                seen[key] = key_node.start_mark.line + 1
            return super().construct_mapping(node, deep=deep)

    return StrictLoader


# --------------------------------------------------------------------------- table cells

def cell_text(value) -> str:
    """A table cell as text: None and NaN become "", surrounding space is stripped."""
    if value is None:
        return ""
    import pandas as pd  # here, not at the top: the notebook runner imports this module too

    try:
        if pd.isna(value):
            return ""
    except (TypeError, ValueError):
        pass
    return str(value).strip()


def cell_number(value, default=None):
    """A table cell as a float; ``default`` when it is empty, not a number, or NaN."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return default
    return default if math.isnan(number) else number


def cell_flag(value) -> bool:
    """A yes/no cell (e.g. ``unstable``) as a bool: true, 1 or yes (any case) is True;
    anything else, an empty cell included, is False."""
    return cell_text(value).lower() in ("true", "1", "yes")


def cell_list(value, sep: str = ";") -> list[str]:
    """A ``sep``-separated cell (e.g. ``source_themes``) as a list of non-empty items."""
    return [part.strip() for part in cell_text(value).split(sep) if part.strip()]
