"""The one error hierarchy every app raises and every edge turns into a message."""


class ApplicationError(Exception):
    """A use case refused: the message is for the person who asked."""

    status_code = 400

    def __init__(self, message: str, *, field: str | None = None, extra: dict | None = None):
        super().__init__(message)
        self.message = message
        self.field = field
        self.extra = extra or {}


class ValidationFailed(ApplicationError):
    status_code = 400


class WrongCode(ValidationFailed):
    """A second-factor code that is not right: counted as a failed sign-in, as a wrong
    password is."""


class Conflict(ApplicationError):
    """The request is valid but clashes with the current state (a duplicate, a race)."""

    status_code = 409


class DuplicateEmail(Conflict):
    """A new customer's e-mail is already on a customer: said before saving a second
    record of the same person; the caller may save anyway. `extra["existing_customer"]`
    is the id of that customer when the actor may see them, else None."""


class NotAllowed(ApplicationError):
    status_code = 403


class TooMany(ApplicationError):
    """A limit on how often someone may do something was reached (429). `retry_after`
    is how many seconds until it frees up, when known: the API sends it as Retry-After."""

    status_code = 429

    def __init__(
        self,
        message: str,
        *,
        retry_after: int | None = None,
        field: str | None = None,
        extra: dict | None = None,
    ):
        super().__init__(message, field=field, extra=extra)
        self.retry_after = retry_after
