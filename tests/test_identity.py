from helpers.identity import fingerprint, jaccard


def test_fingerprint_ignores_order_and_duplicates():
    assert fingerprint(["FG01-t002-s0", "FG03-t010-s1"]) == fingerprint(["FG03-t010-s1", "FG01-t002-s0", "FG01-t002-s0"])


def test_fingerprint_changes_when_one_member_changes():
    base = [f"FG01-t{i:03d}-s0" for i in range(40)]
    assert fingerprint(base) != fingerprint(base[:-1])
    assert fingerprint(base) != fingerprint(base[:-1] + ["FG02-t001-s0"])
    assert len(fingerprint(base)) == 8


def test_jaccard():
    assert jaccard(["a", "b", "c"], ["b", "c", "d"]) == 0.5
    assert jaccard([], []) == 0.0
    assert jaccard(["a"], ["a"]) == 1.0
