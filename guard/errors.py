"""Errors that end a run with exit code 2 and a short message."""


class InputError(Exception):
    """Bad input or usage: names the file and says what to do."""

    def __init__(self, source: str, problem: str, fix: str = ""):
        self.source = source
        self.problem = problem
        self.fix = fix
        super().__init__(self.text())

    def text(self) -> str:
        head = f"{self.source}: {self.problem}" if self.source else self.problem
        return f"{head}\n  fix: {self.fix}" if self.fix else head
