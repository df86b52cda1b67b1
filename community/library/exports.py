"""The library as open data: the cases of the current filter as CSV and JSON, and the JSON of one case."""

import csv
import io
import json

from flask import url_for

from community.core.exports import csv_cell
from community.library import services

EXPORT_MAX = 10_000
CSV_COLUMNS = [
    "slug", "title", "city", "state", "country", "summary", "practice_areas", "criteria", "sdgs", "evaluation",
    "language", "started_on", "ended_on", "ongoing", "useful_count", "published_at", "example", "url",
]  # fmt: skip


def case_json(case, full=True):
    """A case as the API and the JSON export give it; `full` adds the prose, metrics, links and attachments."""
    data = {
        "slug": case.slug,
        "title": case.title,
        "city": {
            "slug": case.city.slug,
            "name": case.city.name,
            "state": case.city.state,
            "country": case.city.country,
        },
        "summary": case.summary,
        "practice_areas": [area.code for area in case.practice_areas],
        "criteria": [criterion.code for criterion in case.criteria],
        "sdgs": case.sdgs,
        "evaluation": case.evaluation,
        "language": case.language,
        "started_on": case.started_on.isoformat() if case.started_on else None,
        "ended_on": case.ended_on.isoformat() if case.ended_on else None,
        "ongoing": case.ongoing,
        "status": case.status,
        "example": case.is_example,
        "useful_count": case.useful_count,
        "published_at": case.published_at.isoformat() if case.published_at else None,
        "updated_at": case.updated_at.isoformat(),
        "url": url_for("library.show", case_slug=case.slug, _external=True),
    }
    if full:
        for field in services.PROSE_FIELDS:
            data[field] = getattr(case, field)
            data[f"{field}_html"] = getattr(case, f"{field}_html")
        data["contact"] = case.contact
        data["metrics"] = [
            {
                "name": metric.name,
                "baseline": metric.baseline,
                "result": metric.result,
                "unit": metric.unit,
                "date": metric.measured_on.isoformat() if metric.measured_on else None,
            }
            for metric in case.metrics
        ]
        data["links"] = [{"url": link.url, "title": link.title} for link in case.links]
        data["attachments"] = [
            {
                "name": attachment.original_name,
                "content_type": attachment.content_type,
                "size": attachment.size,
                "url": url_for("library.attachment", case_slug=case.slug, attachment_id=attachment.id, _external=True),
            }
            for attachment in case.attachments
        ]
        data["revision_count"] = case.revision_count
    return data


def cases_csv(cases):
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_COLUMNS)
    for case in cases:
        row = [
            case.slug,
            case.title,
            case.city.name,
            case.city.state,
            case.city.country,
            case.summary,
            " ".join(area.code for area in case.practice_areas),
            " ".join(criterion.code for criterion in case.criteria),
            " ".join(str(goal) for goal in case.sdgs),
            case.evaluation,
            case.language,
            case.started_on.isoformat() if case.started_on else "",
            case.ended_on.isoformat() if case.ended_on else "",
            "yes" if case.ongoing else "no",
            case.useful_count,
            case.published_at.isoformat() if case.published_at else "",
            "yes" if case.is_example else "no",
            url_for("library.show", case_slug=case.slug, _external=True),
        ]
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def cases_json(cases):
    return json.dumps({"items": [case_json(case) for case in cases], "total": len(cases)}, ensure_ascii=False)
