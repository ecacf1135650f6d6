"""The one error type users see: its message is a single line naming what to fix."""


class MedqError(Exception):
    """A user-facing failure (bad config, bad input file, unreachable service)."""


class ConfigError(MedqError):
    """The composed configuration is invalid; raised before any stage starts."""


class InputDataError(MedqError):
    """An input file cannot be read as configured; names the file and the row, byte or column."""
