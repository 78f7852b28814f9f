"""Separating the new text of a reply from the quoted history below it."""

from __future__ import annotations

import re

_REPLY_HEADERS = [
    re.compile(r"^On .{1,200}wrote:\s*$", re.I),
    re.compile(r"^On .{1,200}$\n^.{0,200}wrote:\s*$", re.I | re.M),
    re.compile(r"^-{2,}\s*Original Message\s*-{2,}", re.I),
    re.compile(r"^_{10,}\s*$"),
    re.compile(r"^From: .+\n(?:.*\n){0,3}?(?:Sent|Date): ", re.I | re.M),
    re.compile(r"^Am .{1,200}schrieb .{0,200}:\s*$", re.I),
    re.compile(r"^Le .{1,200}a écrit\s*:\s*$", re.I),
]


def strip_quoted(text: str) -> str:
    lines = text.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    for index, line in enumerate(lines):
        if line.rstrip() == "--":
            break
        window = "\n".join(lines[index : index + 2])
        if any(p.match(line) or p.match(window) for p in _REPLY_HEADERS):
            break
        if line.lstrip().startswith(">"):
            continue
        kept.append(line)
    result = "\n".join(kept).strip()
    return result or text.strip()
