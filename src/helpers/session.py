"""The session every `make` goal that runs stages goes through first (``python -m
helpers.pipeline session``): SEED and study.yml checked, the output folder's lock taken
(one run at a time), the stage keys brought up to date, stages whose recorded outputs are
gone rerun; then make runs the goals."""

from __future__ import annotations

import json
import os
import re
import sys
import time
from pathlib import Path

from ._io import UserError, write_text_atomic
from .runs import (CLAIMS_SUCCESS, KEYS, LOCK, MANIFEST, key_changes, parse_seed, recorded_outputs, resolve_settings,
                   run_record, set_status, sha256, stage_keys, withdraw)
from .study import Study, StudyError, load_study


def _lock(output_dir: Path, goals: str) -> int:
    """Hold the output folder's lock for this run (and every process it starts, which
    inherit it: a stage left running by a killed run still holds it)."""
    import fcntl

    path = output_dir / LOCK
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 500).decode("utf-8", "replace").strip() or "another run"
        os.close(fd)
        raise UserError(f"{output_dir} is in use by {holder}; wait for it to finish (or stop it), "
                        "then run make again.") from None
    os.ftruncate(fd, 0)
    os.write(fd, f"`make {goals}` (process {os.getpid()}, started {time.strftime('%H:%M:%S')})".encode())
    os.set_inheritable(fd, True)
    return fd


def _jobserver_fds() -> tuple[int, ...]:
    """The pipe of `make -j`'s jobserver, which the stages' make must inherit."""
    found = re.search(r"--jobserver-(?:auth|fds)=(\d+),(\d+)", os.environ.get("MAKEFLAGS", ""))
    fds = tuple(int(x) for x in found.groups()) if found else ()
    return tuple(fd for fd in fds if _is_open(fd))


def _is_open(fd: int) -> bool:
    try:
        os.fstat(fd)
        return True
    except OSError:
        return False


def _dry_run() -> bool:
    flags = os.environ.get("MAKEFLAGS", "").split(" ")[0]
    return not flags.startswith("-") and "n" in flags


def prepare(study: Study, output_dir: Path, seed: str | None, dry_run: bool = False) -> list[str]:
    """Bring the stage keys up to date and find stages whose recorded outputs are gone or
    changed; return one line per stage that will rerun and why."""
    keys = stage_keys(study, resolve_settings(study, seed))
    reasons = []
    for stage, key in keys.items():
        path = output_dir / KEYS / f"{stage}.json"
        old = json.loads(path.read_text(encoding="utf-8")) if path.exists() else None
        executed = output_dir / "notebooks" / f"{stage}.ipynb"
        if old != key:
            if old is not None and executed.exists():
                reasons.append(f"{stage}: {'; '.join(key_changes(old, key))}")
            if not dry_run:
                write_text_atomic(path, json.dumps(key, indent=1, sort_keys=True) + "\n")
            continue
        if executed.exists():
            lost = [rel for rel, digest in recorded_outputs(output_dir, stage).items()
                    if not (output_dir / rel).is_file() or sha256(output_dir / rel) != digest]
            if lost or not run_record(output_dir, stage).exists():
                reasons.append(f"{stage}: {', '.join(lost[:3]) or 'its record'} "
                               f"{'is' if len(lost) < 2 else 'are'} missing or changed")
                if not dry_run:
                    executed.unlink()
    return reasons


def cli_session(args: list[str]) -> int:
    """``session STUDY OUTPUT_DIR SEED -- make GOAL ...``: check SEED and study.yml, take the
    output folder's lock, bring the stage keys up to date, then run make on the goals."""
    import subprocess

    study_path, output_dir, seed, dash, *make = args
    out = Path(output_dir)
    dry = _dry_run()
    try:
        parse_seed(seed)
        try:
            study = load_study(study_path)
        except StudyError as exc:
            if (out / MANIFEST).exists() and not dry:  # results of a run made from a study that is now broken
                withdraw(out, list(CLAIMS_SUCCESS), f"failed: {exc}")
            raise
        out.mkdir(parents=True, exist_ok=True)
        lock = _lock(out, " ".join(make[2:]) or "all") if not dry else None
        for line in prepare(study, out, seed, dry):
            print(f"↻ {line}", flush=True)
    except UserError as exc:
        print(f"✗ {exc}", file=sys.stderr, flush=True)
        return 2
    except OSError as exc:
        print(f"✗ {out} cannot be written ({exc.strerror}: {exc.filename}); make it writable "
              f"(chmod -R u+w {out}) or choose another OUTPUT_DIR=.", file=sys.stderr, flush=True)
        return 2
    env = dict(os.environ, COMPENDIUM_SESSION=str(os.getpid()))
    fds = (*([lock] if lock is not None else []), *_jobserver_fds())
    child = subprocess.Popen(make, env=env, pass_fds=fds)
    while True:
        try:
            code = child.wait()
            break
        except KeyboardInterrupt:  # make and the stage print their own line; wait for them
            continue
    if code != 0 and not dry:
        manifest = out / MANIFEST
        try:
            complete = json.loads(manifest.read_text()).get("status") == "complete"
        except (OSError, ValueError):
            complete = False
        if complete:
            set_status(out, "failed: the last `make` did not finish")
    return 130 if code < 0 else code
