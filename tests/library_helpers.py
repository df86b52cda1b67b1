"""Helpers for the library tests: a case study's fields, writing one, publishing it, and small files of each kind."""

import io
import zipfile

from werkzeug.datastructures import FileStorage

from community.auth.models import User
from community.extensions import db
from community.library import services
from community.library.models import CaseStudy


def case_fields(city="recife", **overrides):
    """Valid fields for clean_case_input: an ended case in Portuguese about data management."""
    fields = {
        "title": "Inventário de dados com um dono por base",
        "city": city,
        "summary": "Cada base da prefeitura ganhou um responsável nomeado.",
        "problem": "O inventário ficava **desatualizado**.",
        "approach": "Uma portaria nomeou os responsáveis.",
        "results": "Noventa por cento das linhas revisadas.",
        "data_used": "Sistemas das secretarias.",
        "tools": "Planilhas e CKAN.",
        "team": "Escritório de dados.",
        "contact": "dados@recife.example.org",
        "started_on": "2024-02-01",
        "ended_on": "2025-03-31",
        "ongoing": False,
        "practice_areas": ["DM"],
        "criteria": ["DM1", "DM2"],
        "sdgs": [16],
        "evaluation": "descriptive",
        "language": "pt_BR",
        "metrics": [{"name": "Linhas revisadas", "baseline": 20, "result": 90, "unit": "%", "date": "2025-03-31"}],
        "links": [{"url": "https://dados.recife.example.org/inventario", "title": "Inventário"}],
    }
    fields.update(overrides)
    return fields


def write_case(app, author_id, publish_by=None, **overrides):
    """Write a draft as `author_id` (published by `publish_by` when given); returns its slug."""
    with app.app_context():
        author = db.session.get(User, author_id)
        case = services.create_case(author, services.clean_case_input(case_fields(**overrides)))
        if publish_by is not None:
            services.publish(case, db.session.get(User, publish_by))
        return case.slug


def case_state(app, slug):
    """(status, revision_count, useful_count) of a case, read afresh."""
    with app.app_context():
        case = db.session.scalar(db.select(CaseStudy).where(CaseStudy.slug == slug))
        return case.status, case.revision_count, case.useful_count


PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4\x89"
    b"\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82"
)
EXECUTABLE = b"MZ\x90\x00\x03\x00\x00\x00\x04\x00\x00\x00\xff\xff\x00\x00" + b"\x00" * 200


def docx_bytes():
    """A minimal Word document: a zip with the parts that make it one."""
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("[Content_Types].xml", '<?xml version="1.0"?><Types/>')
        archive.writestr("word/document.xml", '<?xml version="1.0"?><w:document/>')
    return out.getvalue()


def attach(app, case_slug, user_id, content=PDF, name="relatorio.pdf"):
    """Attach a file to a case as `user_id`; returns the attachment's id."""
    with app.app_context():
        case = services.case_by_slug(case_slug)
        upload = FileStorage(stream=io.BytesIO(content), filename=name)
        return services.add_attachment(case, db.session.get(User, user_id), upload).id
