"""What several commands share: how a secret option is read."""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import Any

# How a secret option says where its value is, in --help.
FROM_STDIN_OR_ENV = "; '-' reads it from standard input, 'env:NAME' from the variable NAME"


def read_secret(value: str, option: str) -> str:
    """A secret option's value: ``-`` is the next line of standard input (several such
    options read one line each, in the order they are given), ``env:NAME`` the environment
    variable NAME; anything else is the value itself, which ``ps`` shows to every user."""
    if value == "-":
        line = sys.stdin.readline()
        if not line:
            raise argparse.ArgumentTypeError(f"{option}: no line left on standard input")
        return line.rstrip("\r\n")
    if value.startswith("env:"):
        name = value[4:]
        found = os.environ.get(name)
        if not name or found is None:
            raise argparse.ArgumentTypeError(f"{option}: the environment has no {name or 'NAME'}")
        return found
    return value


class SecretOption(argparse.Action):
    """An option that carries a secret (a mail server URL with its password, a token): read
    by ``read_secret`` as the parser meets it, so standard input is read in command-line
    order."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        try:
            secret = read_secret(str(values), option_string or self.dest)
        except argparse.ArgumentTypeError as exc:
            parser.error(str(exc))
        setattr(namespace, self.dest, secret)
