"""The composer's reply and note forms as they arrive: URL-encoded, or multipart once they carry
files. Their text fields are read like every form's; the files are checked by the portal's
rules (``inbox.rules.portal``: the type read off the first bytes, never the name or the type
the browser claimed; the name cleaned; the size and count limited) before anything is stored.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from litestar import Request
from litestar.datastructures import UploadFile

from inbox.errors import InvalidInput
from inbox.rules.portal import MAX_FILE_BYTES, MAX_FILES, AcceptedFile, RefusedFile, accept_file

# A message with its files: the app's own limit (2 MB) is for forms without files. A little
# over the files' limit, so that one file too many or too large is refused in words.
UPLOAD_BODY_BYTES = (MAX_FILES + 1) * MAX_FILE_BYTES + 256 * 1024
FILE_FIELD = "files"
# A stored file of a reply that was not sent yet (``inbox.rules.reply_files.held_token``).
HELD_FIELD = "held_file"


@dataclass
class ComposerForm:
    """A composer form's fields (the last value of each), its chosen files and held files."""

    fields: dict[str, str] = field(default_factory=dict)
    uploads: list[UploadFile] = field(default_factory=list)
    held: list[str] = field(default_factory=list)

    def get(self, name: str, default: str = "") -> str:
        return self.fields.get(name, default)

    def accepted_files(self) -> list[AcceptedFile]:
        """The chosen files as the ticket keeps them, or ``InvalidInput`` naming the first
        refused and why; read in full only up to the size limit."""
        if len(self.uploads) + len(self.held) > MAX_FILES:
            raise InvalidInput(f"Attach at most {MAX_FILES} files to a message. Nothing was sent.")
        accepted: list[AcceptedFile] = []
        for upload in self.uploads:
            data = upload.file.read(MAX_FILE_BYTES + 1)
            try:
                accepted.append(accept_file(upload.filename, data))
            except RefusedFile as exc:
                name = upload.filename[:100]
                raise InvalidInput(f"{name}: {exc}. Nothing was sent.") from None
        return accepted


async def composer_form(request: Request[Any, Any, Any]) -> ComposerForm:
    """The form, whichever way it was encoded; file inputs left empty are skipped."""
    form = await request.form()
    found = ComposerForm()
    for name, value in form.multi_items():
        if isinstance(value, UploadFile):
            if name == FILE_FIELD and value.filename:
                found.uploads.append(value)
        elif name == HELD_FIELD:
            found.held.append(value)
        else:
            found.fields[name] = value
    return found
