"""Uploaded files: the type is read from the content (never from the name), the size is capped, and the file is
kept outside `static/` under a generated name, to be sent back only as an attachment to those allowed.

A feature calls `store(file, kinds, max_bytes)` before touching its own rows; on a refusal nothing was written.
If the feature's transaction then fails, it calls `discard(stored_name)` so no orphan stays behind.
"""

import os
import secrets
import unicodedata
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import abort, current_app, send_file
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l
from werkzeug.exceptions import RequestEntityTooLarge

from community.core.errors import InputError

# What each kind of upload admits: the extensions a name may end with, and the content type each maps to.
PDF = {"pdf": "application/pdf"}
OFFICE = {
    "doc": "application/msword",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "odt": "application/vnd.oasis.opendocument.text",
    "xls": "application/vnd.ms-excel",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "ods": "application/vnd.oasis.opendocument.spreadsheet",
    "ppt": "application/vnd.ms-powerpoint",
    "pptx": "application/vnd.openxmlformats-officedocument.presentationml.presentation",
    "odp": "application/vnd.oasis.opendocument.presentation",
}
IMAGES = {"png": "image/png", "jpg": "image/jpeg", "jpeg": "image/jpeg", "gif": "image/gif", "webp": "image/webp"}
CSV = {"csv": "text/csv"}

# Names whose content is plain text and has no signature to read: checked as text instead.
TEXT_EXTENSIONS = {"csv"}
# filetype names a JPEG "jpg"; the same content may be called .jpeg.
SAME_CONTENT = {"jpeg": "jpg"}
NAME_MAX = 200
SNIFF_BYTES = 8192
CHUNK_BYTES = 64 * 1024


class UploadError(InputError):
    """A file refused, with the HTTP status that says why: 400 when there is none or it is empty, 415 when its
    content is not of an accepted type (whatever its name says). Too big is a 413, raised as such."""

    def __init__(self, fields, status=400):
        super().__init__(fields)
        self.status = status


@dataclass(frozen=True)
class StoredFile:
    stored_name: str  # the generated name on disk
    filename: str  # the sender's name, cleaned, for display and as the download's name
    content_type: str
    size: int


def upload_folder():
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def clean_filename(name):
    """The last part of the sender's name, without path separators, control characters or leading dots."""
    name = unicodedata.normalize("NFC", name or "")
    name = name.replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(char for char in name if unicodedata.category(char)[0] != "C").strip().lstrip(".")
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: NAME_MAX - len(extension) - 1] + dot + extension) if dot else name[:NAME_MAX]
    return name


def _extension(name):
    return name.rpartition(".")[2].lower() if "." in name else ""


def _looks_like_text(head):
    if b"\x00" in head:
        return False
    for encoding in ("utf-8", "cp1252"):
        try:
            head.decode(encoding)
            return True
        except UnicodeDecodeError:
            # A multi-byte character cut at the end of the sample is still text.
            if encoding == "utf-8":
                try:
                    head[:-3].decode(encoding)
                    return True
                except UnicodeDecodeError:
                    continue
    return False


def _content_matches(extension, head):
    if extension in TEXT_EXTENSIONS:
        return _looks_like_text(head)
    kind = filetype.guess(head)
    return kind is not None and kind.extension == SAME_CONTENT.get(extension, extension)


def store(file, kinds, max_bytes):
    """Check `file` (a werkzeug FileStorage) and keep it; returns a StoredFile or raises UploadError on "file".

    `kinds` maps the admitted extensions to their content types (e.g. PDF | IMAGES). Too big raises a 413.
    """
    if file is None or not getattr(file, "filename", ""):
        raise UploadError({"file": _l("Choose a file to upload.")})
    filename = clean_filename(file.filename)
    extension = _extension(filename)
    if not filename or extension not in kinds:
        allowed = ", ".join(sorted({name.upper() for name in kinds}))
        raise UploadError(
            {"file": _l("This type of file is not accepted. Send one of: %(types)s.", types=allowed)}, 415
        )
    stored_name = secrets.token_hex(16)
    path = upload_folder() / stored_name
    size = 0
    try:
        with path.open("xb") as out:
            head = chunk = file.stream.read(SNIFF_BYTES)
            while chunk:
                size += len(chunk)
                if size > max_bytes:
                    megabytes = format_decimal(max_bytes / (1024 * 1024), format="#,##0.#")
                    raise RequestEntityTooLarge(_l("The file is too large: at most %(size)s MB.", size=megabytes))
                out.write(chunk)
                chunk = file.stream.read(CHUNK_BYTES)
        if size == 0:
            raise UploadError({"file": _l("The file is empty.")})
        if not _content_matches(extension, head):
            message = _l("The file's content is not a %(type)s file, whatever its name says.", type=extension.upper())
            raise UploadError({"file": message}, 415)
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return StoredFile(stored_name=stored_name, filename=filename, content_type=kinds[extension], size=size)


def _path(stored_name):
    if not stored_name or not stored_name.isalnum():
        raise ValueError(f"not a stored file's name: {stored_name!r}")
    return upload_folder() / stored_name


def discard(stored_name):
    """Remove a stored file (its row was rolled back or deleted); a file already gone is fine."""
    try:
        _path(stored_name).unlink(missing_ok=True)
    except OSError as error:
        current_app.logger.warning("Could not remove the upload %s: %s", stored_name, error)


def send(stored_name, filename, content_type):
    """The stored file as an attachment under its sender's name; never shown inline by the browser. A row whose
    file is gone (restored from a backup without the folder, say) answers 404."""
    path = _path(stored_name)
    if not path.is_file():
        abort(404)
    response = send_file(
        os.fspath(path),
        mimetype=content_type,
        as_attachment=True,
        download_name=filename,
        max_age=0,
    )
    response.headers["Cache-Control"] = "private, no-store"
    return response
