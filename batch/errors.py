"""The one exception the core raises: input that cannot be used at all (exit 2)."""

from __future__ import annotations


class UnusableInput(Exception):
    """The input file (or an option) cannot be used. The message is plain Dutch and names the fix."""

    exit_code = 2

    def __init__(self, message: str, fix: str = "") -> None:
        self.message = message
        self.fix = fix
        super().__init__(f"{message} {fix}".strip())

    def __reduce__(self) -> tuple[type[UnusableInput], tuple[str, str]]:
        # Raised in a worker process, it must arrive in the parent with message and fix intact.
        return (UnusableInput, (self.message, self.fix))
