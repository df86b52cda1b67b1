"""Uploaded files: size and type checked by content, stored outside static/ under generated names, sent back
as attachments. Features keep the stored name on their own rows and decide who may upload and download."""

import secrets
from dataclasses import dataclass
from pathlib import Path

import filetype
from flask import abort, current_app, send_file
from flask_babel import format_decimal
from flask_babel import lazy_gettext as _l

from community.core.errors import InputError

# What a file's content is, by the extension filetype reads from it: (MIME type, the extensions people give it).
DOCUMENT_TYPES = {
    "pdf": ("application/pdf", {"pdf"}),
    "doc": ("application/msword", {"doc"}),
    "docx": ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", {"docx"}),
    "xls": ("application/vnd.ms-excel", {"xls"}),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", {"xlsx"}),
    "ppt": ("application/vnd.ms-powerpoint", {"ppt"}),
    "pptx": ("application/vnd.openxmlformats-officedocument.presentationml.presentation", {"pptx"}),
    "odt": ("application/vnd.oasis.opendocument.text", {"odt"}),
    "ods": ("application/vnd.oasis.opendocument.spreadsheet", {"ods"}),
    "odp": ("application/vnd.oasis.opendocument.presentation", {"odp"}),
}
IMAGE_TYPES = {
    "png": ("image/png", {"png"}),
    "jpg": ("image/jpeg", {"jpg", "jpeg"}),
    "gif": ("image/gif", {"gif"}),
    "webp": ("image/webp", {"webp"}),
}
NAME_MAX = 200


class UploadError(InputError):
    """A file refused: too big, empty, or not of an accepted type. `fields` maps the form field to the reason;
    `status` is the HTTP status that says it (413 too large, 415 wrong type, 400 missing or empty)."""

    def __init__(self, fields, status=400):
        super().__init__(fields)
        self.status = status


@dataclass
class StoredFile:
    stored_name: str  # the generated name in the upload folder
    original_name: str  # the name the uploader gave it, cleaned, for the download
    content_type: str
    size: int


def upload_folder():
    folder = Path(current_app.config["UPLOAD_FOLDER"])
    folder.mkdir(parents=True, exist_ok=True)
    return folder


def _clean_name(name):
    """The uploader's file name without folders or control characters, shortened; it is only ever shown."""
    name = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    name = "".join(ch for ch in name if ch.isprintable()).strip()
    if len(name) > NAME_MAX:
        stem, dot, extension = name.rpartition(".")
        name = (stem[: NAME_MAX - len(extension) - 1] + dot + extension) if dot else name[:NAME_MAX]
    return name or "file"


def _extension(name):
    return name.rpartition(".")[2].lower() if "." in name else ""


def check_and_store(upload, accepted, max_bytes, field="file"):
    """Read an uploaded werkzeug FileStorage, check it, and store it; returns a StoredFile.

    `accepted` maps filetype's extensions to (MIME type, allowed name extensions), e.g. DOCUMENT_TYPES. The type
    is read from the content, and the name's extension must agree with it, so a program renamed report.pdf or a
    picture called minutes.docx is refused. Nothing is written when the file is refused.
    """
    if upload is None or not getattr(upload, "filename", None):
        raise UploadError({field: _l("Choose a file to upload.")})
    data = upload.stream.read(max_bytes + 1)
    if not data:
        raise UploadError({field: _l("The file is empty.")})
    if len(data) > max_bytes:
        megabytes = format_decimal(max_bytes / (1024 * 1024), format="#,##0.#")
        raise UploadError({field: _l("The file is too large: at most %(size)s MB.", size=megabytes)}, 413)
    kind = filetype.guess(data)
    original = _clean_name(upload.filename)
    if kind is None or kind.extension not in accepted or _extension(original) not in accepted[kind.extension][1]:
        names = ", ".join(sorted({ext for _mime, exts in accepted.values() for ext in exts}))
        raise UploadError({field: _l("This type of file is not accepted. Accepted: %(types)s.", types=names)}, 415)
    content_type = accepted[kind.extension][0]
    stored_name = f"{secrets.token_hex(16)}.{kind.extension}"
    (upload_folder() / stored_name).write_bytes(data)
    return StoredFile(stored_name=stored_name, original_name=original, content_type=content_type, size=len(data))


def send_stored(stored_name, download_name, content_type):
    """Send a stored file as a download (never shown inline, so no uploaded page or image runs in the site)."""
    path = upload_folder() / Path(stored_name).name
    if not path.is_file():
        abort(404)  # its row outlived the file (restored from a backup without the folder, say)
    return send_file(path, mimetype=content_type, as_attachment=True, download_name=download_name, max_age=0)


def delete_stored(stored_name):
    """Remove a stored file; one already gone is no error."""
    (upload_folder() / Path(stored_name).name).unlink(missing_ok=True)
