"""Search benchmark (issue 5): query times at scale on SQLite's FTS5, the time to build the index, and the
speed-up over a plain LIKE scan of the same data.

    .venv/bin/python bench/search.py           # 200,000 posts, 20,000 threads, 5,000 case studies
    .venv/bin/python bench/search.py --quick   # a tenth of that

Progress goes to stderr; the last line of stdout is one JSON object with every figure. The database is a SQLite
file in a temporary directory that is removed afterwards.

1. data: documents of Portuguese and Spanish words, as features hand them to the index, written with Core
   executemany and the index triggers off; "dados" is in half the posts, "gestão" in a tenth, "zeppelin" in five.
2. build: the FTS5 index made from scratch from those rows ('rebuild').
3. queries: ten typical queries (rare and very common words, two words, a prefix, accents typed or not) through
   community.search.services.search, as the page and the API call it; median and p95 over every run, signed in,
   and apart for visitors (whose search also leaves out members-only threads).
4. like: the same words found with LIKE '%word%' on title and body (the newest twenty and the count, as the
   search answers), and the ratio of the medians.
"""

import argparse
import json
import platform
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # bench/, whose markdown.py would hide Markdown
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, when run as bench/search.py

import sqlalchemy as sa

from community import create_app
from community.extensions import db
from community.search import schema
from community.search import services as search
from community.search.models import SearchDocument

SEED = 20251125
QUERIES = [
    "zeppelin",  # rare: five documents
    "dados",  # very common: half the posts
    "gestao",  # common, typed without its accent
    "gestão",  # the same with it
    "dados abertos",  # two words, one very common
    "inventario municipal",  # two words
    "gest*",  # a prefix
    "avaliação",  # a word in the cases
    "orçamento participativo",  # two words, accents typed
    "indicadores desempenho",  # two words
]
TARGET_MEDIAN_MS, TARGET_P95_MS, TARGET_RATIO = 10, 50, 50
WORDS = str.split(
    "prefeitura secretaria cidade bairro rua escola saude educacao transporte obra contrato meta indicador "
    "painel planilha base portal relatorio comite reuniao equipe servidor cidadao populacao orcamento despesa "
    "receita licitacao fornecedor resultado avaliacao programa projeto politica plano lei decreto portaria "
    "municipio alcaldia ciudad barrio calle escuela salud transporte obra contrato meta indicador tablero "
    "informe reunion equipo ciudadano presupuesto gasto ingreso licitacion proveedor resultado evaluacion "
    "programa proyecto politica plan ley decreto municipal abertos publicos qualidade atualizacao responsavel "
    "sistema mapa geografico arvore iluminacao limpeza coleta residuos agua esgoto habitacao emprego renda"
)


def progress(message):
    print(message, file=sys.stderr, flush=True)


def filler(rng, size):
    """Made-up words (three to nine letters) standing for a real vocabulary's long tail."""
    letters = "abcdefghijlmnoprstuv"
    return ["".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)]


def documents(rng, threads, posts, cases):
    vocabulary = WORDS + filler(rng, 20_000)
    weights = [50] * len(WORDS) + [1] * (len(vocabulary) - len(WORDS))
    rare = set(rng.sample(range(posts), 5))

    def text(n, extra=()):
        words = rng.choices(vocabulary, weights=weights, k=n)
        words.extend(extra)
        rng.shuffle(words)
        return " ".join(words)

    rows, next_id = [], 1
    for n in range(threads):
        title = text(7, ["gestão"] if n % 10 == 0 else ())
        rows.append(("thread", n + 1, f"thread:{n + 1}", title, text(60), f"/threads/{n + 1}", "pt_BR", " DM "))
    for n in range(posts):
        extra = []
        if n % 2 == 0:
            extra.append("dados")
        if n % 10 == 3:
            extra.append("gestão")
        if n in rare:
            extra.append("zeppelin")
        if n % 50 == 7:
            extra += ["inventário", "municipal"]
        thread = n % threads + 1
        rows.append(("post", n + 1, f"thread:{thread}", f"Pergunta {thread}", text(50, extra),
                     f"/threads/{thread}#post-{n + 1}", "pt_BR", " DM "))  # fmt: skip
    for n in range(cases):
        language = "es" if n % 3 == 0 else "pt_BR"
        body = text(300, ["avaliação", "orçamento", "participativo", "indicadores", "desempenho"][: n % 6])
        rows.append(("case", n + 1, f"case:{n + 1}", text(8), body, f"/library/caso-{n + 1}", language, " PA "))
    for doc in rows:
        yield {"id": next_id, "kind": doc[0], "object_id": doc[1], "group_key": doc[2], "title": doc[3],
               "body": doc[4], "url": doc[5], "language": doc[6], "areas": doc[7], "members_only": False}  # fmt: skip
        next_id += 1


def fill(app, rng, sizes):
    """Write the documents with the triggers off, then build the FTS5 index from scratch; returns build seconds."""
    with app.app_context(), db.engine.begin() as connection:
        for statement in schema.SQLITE_DROP[:3]:  # the triggers; the FTS5 table stays, empty
            connection.execute(sa.text(statement))
    insert = sa.insert(SearchDocument.__table__)
    batch, written = [], 0
    with app.app_context():
        for row in documents(rng, *sizes):
            batch.append(row)
            if len(batch) == 20_000:
                with db.engine.begin() as connection:
                    connection.execute(insert, batch)
                written += len(batch)
                progress(f"  {written:,} documents")
                batch = []
        with db.engine.begin() as connection:
            if batch:
                connection.execute(insert, batch)
                written += len(batch)
        started = time.perf_counter()
        with db.engine.begin() as connection:
            connection.execute(sa.text("INSERT INTO search_fts(search_fts) VALUES ('rebuild')"))
        build = time.perf_counter() - started
        with db.engine.begin() as connection:
            schema.create_engine_objects(connection)  # the triggers back, for writes after this
            connection.execute(sa.text("ANALYZE"))
    progress(f"  {written:,} documents indexed in {build:.1f} s")
    return written, build


def timed(function, runs):
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        function()
        times.append((time.perf_counter() - started) * 1000)
    return times


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def like_scan(query):
    """The newest twenty documents holding every word, and their count, found by LIKE."""
    words = [word.rstrip("*") for word, _prefix in search.parse_query(query).terms]
    conditions = [
        sa.or_(SearchDocument.title.ilike(f"%{word}%"), SearchDocument.body.ilike(f"%{word}%")) for word in words
    ]
    db.session.scalar(sa.select(sa.func.count()).where(*conditions).select_from(SearchDocument))
    db.session.scalars(sa.select(SearchDocument.id).where(*conditions).order_by(SearchDocument.id.desc()).limit(20))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a tenth of the data, fewer runs")
    args = parser.parse_args()
    sizes = (2_000, 20_000, 500) if args.quick else (20_000, 200_000, 5_000)
    runs = 5 if args.quick else 20
    rng = random.Random(SEED)
    with tempfile.TemporaryDirectory(prefix="search-bench-") as folder:
        app = create_app("testing", {"SQLALCHEMY_DATABASE_URI": f"sqlite:///{folder}/bench.db"})
        with app.app_context():
            db.create_all()
        progress(f"Writing {sum(sizes):,} documents ({sizes[1]:,} posts, {sizes[0]:,} threads, {sizes[2]:,} cases)")
        written, build = fill(app, rng, sizes)
        per_query, every, visitors = {}, [], []
        with app.test_request_context():
            for query in QUERIES:
                search.search(query)  # warm the page cache
                times = timed(lambda q=query: search.search(q, signed_in=True), runs)
                found = search.search(query)
                per_query[query] = {
                    "median_ms": round(statistics.median(times), 2),
                    "p95_ms": round(percentile(times, 0.95), 2),
                    "total": found.total,
                    "capped": found.capped,
                }
                every += times
                # A visitor's search also reads the documents' table (members-only threads are left out).
                visitors += timed(lambda q=query: search.search(q, signed_in=False), runs)
                progress(f"  {query!r}: median {per_query[query]['median_ms']} ms, {found.total:,} results")
            like_times = []
            like_runs = max(2, runs // 4)
            for query in QUERIES:
                like_times += timed(lambda q=query: like_scan(q), like_runs)
            progress(f"  LIKE scan: median {statistics.median(like_times):.1f} ms")
            write_times = timed(
                lambda: (search.index_document(search.Document("post", 10**9, "Nova", "Uma nova resposta", "/x")),
                         db.session.commit()),
                20,
            )  # fmt: skip
        median, p95 = statistics.median(every), percentile(every, 0.95)
        like_median = statistics.median(like_times)
        figures = {
            "benchmark": "search",
            "engine": f"SQLite {sqlite3.sqlite_version} FTS5",
            "python": platform.python_version(),
            "documents": written,
            "posts": sizes[1],
            "threads": sizes[0],
            "cases": sizes[2],
            "candidates_ranked": app.config["SEARCH_CANDIDATES"],
            "runs_per_query": runs,
            "median_ms": round(median, 2),
            "p95_ms": round(p95, 2),
            "visitor_median_ms": round(statistics.median(visitors), 2),
            "visitor_p95_ms": round(percentile(visitors, 0.95), 2),
            "targets": {"median_ms": TARGET_MEDIAN_MS, "p95_ms": TARGET_P95_MS, "like_ratio": TARGET_RATIO},
            "meets_targets": median < TARGET_MEDIAN_MS and p95 < TARGET_P95_MS and like_median / median > TARGET_RATIO,
            "index_build_s": round(build, 2),
            "index_write_median_ms": round(statistics.median(write_times), 2),
            "like_median_ms": round(like_median, 1),
            "like_ratio": round(like_median / median, 1),
            "queries": per_query,
        }
        print(json.dumps(figures, ensure_ascii=False))


if __name__ == "__main__":
    main()
