"""The one error type a file can raise while it is being read: its message is shown to the user as is."""


class ImportFileError(Exception):
    """The whole file cannot be imported. `code` is stable (for the API and tests), `message` is for people."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    def __reduce__(self):
        return (type(self), (self.code, self.message))
