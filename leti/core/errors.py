"""Errors the user can fix. The CLI prints them as one line, without a traceback."""


class UserError(Exception):
    """Bad input (config, data, model output): the message names the file and the field."""
