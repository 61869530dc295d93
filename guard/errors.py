"""Errors that end a run with exit code 2 and a short message."""

from __future__ import annotations


def printable(text: str) -> str:
    """Text that can be written as UTF-8 in every report format.

    A file name that is not UTF-8 reaches Python with each bad byte held as a lone surrogate
    (U+DC80..U+DCFF); such a byte is shown as `\\xNN`, any other lone surrogate as `\\uNNNN`.
    """
    if text.isascii():
        return text
    try:
        text.encode("utf-8")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for ch in text:
        code = ord(ch)
        if 0xDC80 <= code <= 0xDCFF:
            out.append(f"\\x{code - 0xDC00:02x}")
        elif 0xD800 <= code <= 0xDFFF:
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return "".join(out)


class InputError(Exception):
    """Bad input or usage: names the file and says what to do."""

    def __init__(self, source: str, problem: str, fix: str = ""):
        self.source = printable(source)
        self.problem = printable(problem)
        self.fix = fix
        super().__init__(self.text())

    def text(self) -> str:
        head = f"{self.source}: {self.problem}" if self.source else self.problem
        return f"{head}\n  fix: {self.fix}" if self.fix else head
