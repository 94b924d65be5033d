"""Decoding a text transcript's bytes: byte-order marks, UTF-16 without one, UTF-8, and
the legacy encodings (Windows-1252, Mac Roman) Word and older tools write, for the
whole file or for the few lines of a UTF-8 file that are in another encoding."""

from __future__ import annotations

import codecs

from ._common import TranscriptError, _error, _excerpt, _Source, _warning

_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)


def _decode(source: _Source, raw: bytes) -> str:
    """BOM first, then UTF-8; a file with no UTF-8 in it is read in the legacy encoding
    charset-normalizer finds, and a UTF-8 file with a few lines in another encoding keeps
    UTF-8 for every good line and repairs only the bad ones, each reported by number."""
    label = source.label
    for bom, codec, name in _BOMS:
        if raw.startswith(bom):
            try:
                text = raw.decode(codec)
            except UnicodeDecodeError as exc:
                raise _error(label, f"the file starts with a {name} byte-order mark but is "
                             f"not valid {name}", "re-save it as UTF-8") from exc
            return _refuse_nul(label, text)
    bomless = _bomless_utf16(raw)
    if bomless:
        return _refuse_nul(label, bomless)
    if b"\x00" in raw:
        raise _binary(label)
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        pass
    lines = raw.split(b"\n")
    bad = [number for number, line in enumerate(lines, start=1) if not _is_utf8(line)]
    utf8_elsewhere = any(not line.isascii() and _is_utf8(line) for line in lines)
    if not utf8_elsewhere:
        # No line uses UTF-8's multi-byte letters: the whole file is in one legacy
        # encoding, as Word's "plain text" and older transcription tools write it.
        encoding = _legacy_encoding(raw)
        _warning(source, "encoding", f"the file is not UTF-8, so it was read as {_CODEC_NAMES[encoding]}",
                 "check its accented letters and quotation marks, and save it as UTF-8 to be sure")
        return _decode_legacy(raw, encoding)
    encoding = _legacy_encoding(b"\n".join(lines[number - 1] for number in bad))
    for number in bad:
        repaired = _decode_legacy(lines[number - 1], encoding)
        lines[number - 1] = repaired.encode("utf-8")
        _warning(source, "encoding",
                 f"this line is not UTF-8 like the rest of the file, so it was read as "
                 f"{_CODEC_NAMES[encoding]} ('{_excerpt(repaired)}')",
                 "check it, and save the file as UTF-8", number)
    return b"\n".join(lines).decode("utf-8")


# Transcripts are English-language (with Welsh, Irish and other Western names): the
# candidates are the encodings Windows and old Macs write such text in. Letting the
# detector consider every code page makes it guess Central European or DOS pages for
# short English texts.
_CODEC_NAMES = {"cp1252": "Windows-1252", "mac_roman": "Mac Roman"}


def _is_utf8(line: bytes) -> bool:
    try:
        line.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _legacy_encoding(data: bytes) -> str:
    from charset_normalizer import from_bytes

    best = from_bytes(data, cp_isolation=list(_CODEC_NAMES)).best()
    guess = best.encoding if best is not None and best.encoding in _CODEC_NAMES else "cp1252"
    # With only a few accented letters the detector has little to go on and often says
    # Windows-1252 for a Mac Roman file ("cafŽ na•ve Si‰n"). The two encodings put letters
    # and symbols on the same bytes the other way round, so the reading with fewer
    # characters that cannot stand where they stand is the right one.
    oddities = {encoding: _misplaced_characters(_decode_legacy(data, encoding)) for encoding in _CODEC_NAMES}
    fewest = min(oddities.values())
    return guess if oddities[guess] == fewest else min(oddities, key=oddities.get)


def _misplaced_characters(text: str) -> int:
    """How many non-ASCII characters sit where English text (with Welsh, Irish and other
    Western names) never puts them: a symbol inside a word ('na•ve'), a capital letter
    after a small one ('cafŽ', 'donÕt'), a letter standing alone between spaces ('ñ' for
    a dash), or a small accented letter opening a word after a space ('ìfine' for a quote).
    """
    count = 0
    for index, char in enumerate(text):
        if char.isascii():
            continue
        before = text[index - 1] if index else " "
        after = text[index + 1] if index + 1 < len(text) else " "
        if char.isalpha():
            count += (before.isalpha() and before.islower() and char.isupper()) \
                or (before.isspace() and after.isspace()) \
                or (before.isspace() and char.islower() and after.isalpha())
        elif char not in "’‘":
            count += before.isalpha() and after.isalpha()
    return count


def _decode_legacy(data: bytes, encoding: str) -> str:
    try:
        return data.decode(encoding)
    except UnicodeDecodeError:
        # The five bytes cp1252 leaves undefined; Latin-1 maps every byte, so never fails.
        return data.decode("latin-1")


def _bomless_utf16(raw: bytes) -> str | None:
    """Some tools write UTF-16 without a BOM: mostly-ASCII text then has a NUL every
    other byte. Recognise that pattern so it is not mistaken for a binary file."""
    pairs = len(raw) // 2
    if len(raw) % 2 or pairs < 2:
        return None
    even_nuls, odd_nuls = raw[0::2].count(0), raw[1::2].count(0)
    codec = ("utf-16-le" if odd_nuls >= 0.9 * pairs and not even_nuls
             else "utf-16-be" if even_nuls >= 0.9 * pairs and not odd_nuls else None)
    if codec is None:
        return None
    try:
        return raw.decode(codec)
    except UnicodeDecodeError:
        return None


def _refuse_nul(label: str, text: str) -> str:
    if "\x00" in text:  # e.g. UTF-32, or a binary file that happens to start like a BOM
        raise _binary(label)
    return text


def _binary(label: str) -> TranscriptError:
    return _error(label, "the file is binary (it contains NUL bytes), not a text transcript",
                  "export the transcript as .docx, .txt, .vtt or .csv and read that file")
