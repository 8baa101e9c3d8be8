"""Errors paictl reports as one clear message each, never as a traceback."""


class PaictlError(Exception):
    """A problem with the user's input or environment. ``problems`` lists one line each."""

    def __init__(self, message, problems=None, exit_code=2):
        super().__init__(message)
        self.problems = list(problems or [])
        self.exit_code = exit_code
