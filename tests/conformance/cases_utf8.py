"""The UTF-8 sequences of Autobahn|Testsuite cases 6.5.x-6.23.x, in Autobahn's numbering.

They follow Markus Kuhn's UTF-8 decoder stress test
(https://www.cl.cam.ac.uk/~mgk25/ucs/examples/UTF-8-test.txt) section by section; validity
is RFC 3629 / Unicode Table 3-7: no overlongs, no surrogates, nothing above U+10FFFF, while
the noncharacters U+FFFE, U+FFFF, U+nFFFE/F are valid. `CASES` holds (case_id, valid, payload).

`fail_index` is the reference for fail-fast checks: the index of the first byte at which the
bytes stop being the beginning of well-formed UTF-8 (a validator must fail there), len(data)
when they are a valid beginning that ends inside a character (only the end of the message
makes them invalid), None when they are well-formed.
"""

KOSME = b"\xce\xba\xe1\xbd\xb9\xcf\x83\xce\xbc\xce\xb5"  # "κόσμε"

# (first byte, allowed range of the second byte, number of continuation bytes), Table 3-7.
_SECOND = {0xE0: (0xA0, 0xBF), 0xED: (0x80, 0x9F), 0xF0: (0x90, 0xBF), 0xF4: (0x80, 0x8F)}


def _lead(b):
    if 0xC2 <= b <= 0xDF:
        return 1
    if 0xE0 <= b <= 0xEF:
        return 2
    if 0xF0 <= b <= 0xF4:
        return 3
    return None  # 80..C1 and F5..FF never start a character


def fail_index(data: bytes):
    i, n = 0, len(data)
    while i < n:
        b = data[i]
        if b < 0x80:
            i += 1
            continue
        need = _lead(b)
        if need is None:
            return i
        for k in range(1, need + 1):
            if i + k >= n:
                return n
            lo, hi = _SECOND.get(b, (0x80, 0xBF)) if k == 1 else (0x80, 0xBF)
            if not lo <= data[i + k] <= hi:
                return i + k
        i += need + 1
    return None


def is_valid(data: bytes) -> bool:
    return fail_index(data) is None


def _groups():
    """[(description, [(valid, payload), ...]), ...] for 6.5, 6.6, ... in order."""
    g = []
    g.append(("Some valid UTF-8 sequences", [
        (True, b"hello\x24world"), (True, b"hello\xc2\xa2world"), (True, b"hello\xe2\x82\xacworld"),
        (True, b"hello\xf0\xa4\xad\xa2world"), (True, KOSME)]))
    g.append(("All prefixes of a valid UTF-8 string with multi-byte code points",
              [(None, KOSME[:i]) for i in range(1, len(KOSME) + 1)]))
    g.append(("2.1 First possible sequence of a certain length", [
        (True, b"\x00"), (True, b"\xc2\x80"), (True, b"\xe0\xa0\x80"), (True, b"\xf0\x90\x80\x80")]))
    g.append(("2.1 First possible sequence of length 5/6 (invalid code points)", [
        (False, b"\xf8\x88\x80\x80\x80"), (False, b"\xfc\x84\x80\x80\x80\x80")]))
    g.append(("2.2 Last possible sequence of a certain length", [
        (True, b"\x7f"), (True, b"\xdf\xbf"), (True, b"\xef\xbf\xbf"), (True, b"\xf4\x8f\xbf\xbf")]))
    g.append(("2.2 Last possible sequence of length 4/5/6 (invalid code points)", [
        (False, b"\xf7\xbf\xbf\xbf"), (False, b"\xfb\xbf\xbf\xbf\xbf"), (False, b"\xfd\xbf\xbf\xbf\xbf\xbf")]))
    g.append(("2.3 Other boundary conditions", [
        (True, b"\xed\x9f\xbf"), (True, b"\xee\x80\x80"), (True, b"\xef\xbf\xbd"),
        (True, b"\xf4\x8f\xbf\xbf"), (False, b"\xf4\x90\x80\x80")]))
    g.append(("3.1 Unexpected continuation bytes", [
        (False, b"\x80"), (False, b"\xbf"), (False, b"\x80\xbf"), (False, b"\x80\xbf\x80"),
        (False, b"\x80\xbf\x80\xbf"), (False, b"\x80\xbf\x80\xbf\x80"), (False, b"\x80\xbf\x80\xbf\x80\xbf"),
        (False, bytes(range(0x80, 0xBF)))]))
    g.append(("3.2 Lonely start characters, each followed by a space", [
        (False, b"".join(bytes([c, 0x20]) for c in range(lo, hi)))
        for lo, hi in ((0xC0, 0xDF), (0xE0, 0xEF), (0xF0, 0xF7), (0xF8, 0xFB), (0xFC, 0xFD))]))
    missing = [b"\xc0", b"\xe0\x80", b"\xf0\x80\x80", b"\xf8\x80\x80\x80", b"\xfc\x80\x80\x80\x80",
               b"\xdf", b"\xef\xbf", b"\xf7\xbf\xbf", b"\xfb\xbf\xbf\xbf", b"\xfd\xbf\xbf\xbf\xbf"]
    g.append(("3.3 Sequences with the last continuation byte missing", [(False, m) for m in missing]))
    g.append(("3.4 Concatenation of incomplete sequences", [(False, b"".join(missing))]))
    g.append(("3.5 Impossible bytes", [(False, b"\xfe"), (False, b"\xff"), (False, b"\xfe\xfe\xff\xff")]))
    g.append(("4.1 Overlong ASCII character '/'", [
        (False, b"\xc0\xaf"), (False, b"\xe0\x80\xaf"), (False, b"\xf0\x80\x80\xaf"),
        (False, b"\xf8\x80\x80\x80\xaf"), (False, b"\xfc\x80\x80\x80\x80\xaf")]))
    g.append(("4.2 Maximum overlong sequences", [
        (False, b"\xc1\xbf"), (False, b"\xe0\x9f\xbf"), (False, b"\xf0\x8f\xbf\xbf"),
        (False, b"\xf8\x87\xbf\xbf\xbf"), (False, b"\xfc\x83\xbf\xbf\xbf\xbf")]))
    g.append(("4.3 Overlong NUL", [
        (False, b"\xc0\x80"), (False, b"\xe0\x80\x80"), (False, b"\xf0\x80\x80\x80"),
        (False, b"\xf8\x80\x80\x80\x80"), (False, b"\xfc\x80\x80\x80\x80\x80")]))
    high = [b"\xed\xa0\x80", b"\xed\xad\xbf", b"\xed\xae\x80", b"\xed\xaf\xbf"]
    low = [b"\xed\xb0\x80", b"\xed\xbe\x80", b"\xed\xbf\xbf"]
    g.append(("5.1 Single UTF-16 surrogates", [(False, s) for s in high + low]))
    g.append(("5.2 Paired UTF-16 surrogates", [
        (False, h + lo) for h in high for lo in (b"\xed\xb0\x80", b"\xed\xbf\xbf")]))
    nonchars = [b"\xef\xbf\xbe", b"\xef\xbf\xbf"]
    for z1 in (0xF0, 0xF1, 0xF2, 0xF3, 0xF4):
        for z2 in (0x8F, 0x9F, 0xAF, 0xBF):
            if z1 == 0xF4 and z2 != 0x8F:
                continue  # above U+10FFFF
            for z3 in (0xBE, 0xBF):
                if not (z1 == 0xF0 and z2 == 0x8F):  # overlong
                    nonchars.append(bytes([z1, z2, 0xBF, z3]))
    g.append(("5.3 Noncharacters U+FFFE, U+FFFF, U+nFFFE/F (valid UTF-8)", [(True, s) for s in nonchars]))
    g.append(("Unicode specials (U+FFF9..U+FFFF)", [
        (True, bytes([0xEF, 0xBF, c])) for c in range(0xB9, 0xC0)]))
    return g


def _cases():
    cases, groups = [], {}
    for gi, (description, entries) in enumerate(_groups(), start=5):
        groups[f"6.{gi}"] = description
        for ci, (valid, payload) in enumerate(entries, start=1):
            if valid is None:  # the prefixes of 6.6: valid when they end on a character boundary
                valid = is_valid(payload)
            cases.append((f"6.{gi}.{ci}", valid, payload))
    return cases, groups


CASES, GROUPS = _cases()
VALID = [c for c in CASES if c[1]]
INVALID = [c for c in CASES if not c[1]]
