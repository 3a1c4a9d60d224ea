"""What a support attachment may be: at most SUPPORT_ATTACHMENT_MAX_BYTES, and an image,
a PDF or plain text judged by its content. `filetype` reads the magic bytes (a renamed
.exe stays an .exe); plain text has no magic number, so it is accepted when it decodes as
UTF-8 and holds no NUL byte."""

from __future__ import annotations

from dataclasses import dataclass

import filetype  # type: ignore[import-untyped]
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile

from customers.errors import ValidationFailed

ALLOWED = {
    "image/jpeg": "JPEG image",
    "image/png": "PNG image",
    "image/gif": "GIF image",
    "image/webp": "WebP image",
    "application/pdf": "PDF",
    "text/plain": "text file",
}
ALLOWED_LABEL = "a JPEG, PNG, GIF or WebP image, a PDF or a plain-text file"


@dataclass(frozen=True)
class Checked:
    name: str
    content_type: str
    size: int


def _is_text(head: bytes) -> bool:
    if b"\x00" in head:
        return False
    try:
        head.decode("utf-8")
    except UnicodeDecodeError as exc:
        # The sample may end inside a multi-byte character.
        return exc.start >= len(head) - 3
    return True


def check_attachment(upload: UploadedFile, *, field: str = "attachment") -> Checked:
    limit = settings.SUPPORT_ATTACHMENT_MAX_BYTES
    size = upload.size or 0
    if size > limit:
        raise ValidationFailed(
            f"The file is {size / 1048576:.1f} MB; attach at most {limit // 1048576} MB "
            "(a smaller picture or a shorter PDF).",
            field=field,
        )
    if size == 0:
        raise ValidationFailed("The file is empty; choose another one.", field=field)
    upload.seek(0)
    head = upload.read(8192)
    upload.seek(0)
    kind = filetype.guess(head)
    if kind is not None:
        content_type = kind.mime
    elif _is_text(head):
        content_type = "text/plain"
    else:
        content_type = ""
    if content_type not in ALLOWED:
        raise ValidationFailed(
            f"This file type cannot be attached; attach {ALLOWED_LABEL}.", field=field
        )
    name = (upload.name or "attachment").rsplit("/", 1)[-1].rsplit("\\", 1)[-1][:200]
    return Checked(name=name, content_type=content_type, size=size)
