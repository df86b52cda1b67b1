"""Handover benchmark (issue 14): the dossier ZIP of a city with 43 criteria x 5 evidence files of 2 MB each
(430 MB of evidence), taken through the real route, and the memory the process uses while sending it.

    .venv/bin/python bench/handover.py            # 43 criteria x 5 files of 2 MB
    .venv/bin/python bench/handover.py --files 1  # 43 x 1, to compare

Progress goes to stderr; the last line of stdout is one JSON object with every figure. The database (SQLite) and
the files live in a temporary directory that is removed afterwards.

The ZIP is read chunk by chunk from the response as a client would, and each chunk is dropped. Memory is measured
twice: the peak of Python's allocations while streaming (tracemalloc), and the growth of the process's resident
set (its high-water mark from /proc). The same run with one file per criterion shows the peak does not grow with
the evidence: memory stays flat, whatever the files weigh.
"""

import argparse
import json
import os
import platform
import secrets
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # bench/, whose markdown.py would hide Markdown
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, when run as bench/handover.py

import sqlalchemy as sa

from community import create_app
from community.assessment import services
from community.assessment.models import Answer, Criterion, Evidence
from community.auth import services as accounts
from community.cities.models import City
from community.extensions import db
from community.framework import loader as framework

FILE_BYTES = 2 * 1024 * 1024
PASSWORD = "bench handover password"  # noqa: S105 (a throwaway account in a temporary database)


def log(message):
    print(message, file=sys.stderr, flush=True)


def rss_high_water_kb():
    """The process's peak resident set so far (VmHWM), in kB; 0 where /proc is not there."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def reset_high_water():
    """Start VmHWM afresh from the current resident set (Linux: write 5 to clear_refs)."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return True
    except OSError:
        return False


def build(app, files_per_criterion):
    with app.app_context():
        framework.load(framework.read_file(framework.SHIPPED_FILE))
        city = City(name="Recife", slug="recife", state="Pernambuco", country="BR", population=1_490_000)
        db.session.add(city)
        db.session.flush()
        user = accounts.create_user("bench@example.org", "Bench", PASSWORD, city=city, confirm_city=True)
        db.session.commit()
        assessment = services.open_assessment(city)
        db.session.commit()
        folder = Path(app.config["UPLOAD_FOLDER"])
        folder.mkdir(parents=True, exist_ok=True)
        block = os.urandom(FILE_BYTES)  # incompressible, as scanned documents are
        answers = db.session.scalars(sa.select(Answer).where(Answer.assessment_id == assessment.id)).all()
        count = 0
        for answer in answers:
            answer.status = "in_place"
            for number in range(files_per_criterion):
                stored = secrets.token_hex(16)
                (folder / stored).write_bytes(block)
                db.session.add(
                    Evidence(
                        answer_id=answer.id,
                        filename=f"evidência-{number + 1}.pdf",
                        stored_name=stored,
                        content_type="application/pdf",
                        size=FILE_BYTES,
                        added_by_id=user.id,
                        description="Ata de reunião",
                    )
                )
                count += 1
        db.session.commit()
        criteria = db.session.scalar(sa.select(sa.func.count(Criterion.id)))
        return criteria, count


def run(files_per_criterion, folder):
    app = create_app(
        "testing",
        {
            "SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder / 'bench.db'}",
            "UPLOAD_FOLDER": str(folder / "uploads"),
            "WTF_CSRF_ENABLED": False,
        },
    )
    with app.app_context():
        db.create_all()
    log(f"writing 43 criteria x {files_per_criterion} files of {FILE_BYTES // (1024 * 1024)} MB …")
    criteria, files = build(app, files_per_criterion)
    client = app.test_client()
    assert client.post("/login", data={"email": "bench@example.org", "password": PASSWORD}).status_code == 302
    log("streaming the dossier …")
    reset = reset_high_water()
    rss_before = rss_high_water_kb()
    tracemalloc.start()
    started = time.perf_counter()
    response = client.get("/cities/recife/handover", buffered=False)
    assert response.status_code == 200, response.status_code
    total = chunks = largest = 0
    for chunk in response.response:
        total += len(chunk)
        chunks += 1
        largest = max(largest, len(chunk))
    response.close()
    seconds = time.perf_counter() - started
    _current, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_after = rss_high_water_kb()
    declared = int(response.headers["Content-Length"])
    assert total == declared, (total, declared)
    log(f"{total / 1e6:.0f} MB in {seconds:.1f} s; Python peak {peak / 1e6:.1f} MB")
    return {
        "criteria": criteria,
        "evidence_files": files,
        "evidence_mb": round(files * FILE_BYTES / 1e6, 1),
        "zip_mb": round(total / 1e6, 1),
        "seconds": round(seconds, 2),
        "mb_per_second": round(total / 1e6 / seconds, 1),
        "chunks": chunks,
        "largest_chunk_kb": round(largest / 1024, 1),
        "python_peak_mb": round(peak / 1e6, 2),
        "rss_growth_mb": round((rss_after - rss_before) / 1024, 1) if reset else None,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=5, help="evidence files per criterion (default 5)")
    args = parser.parse_args()
    figures = {"python": platform.python_version()}
    with tempfile.TemporaryDirectory() as small, tempfile.TemporaryDirectory() as large:
        figures["one_file_each"] = run(1, Path(small))
        figures[f"{args.files}_files_each"] = run(args.files, Path(large))
    one = figures["one_file_each"]["python_peak_mb"]
    many = figures[f"{args.files}_files_each"]["python_peak_mb"]
    figures["peak_ratio"] = round(many / one, 2) if one else None
    figures["flat"] = many < one * 1.5 + 1
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
