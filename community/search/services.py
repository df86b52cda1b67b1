"""Handing documents to the index, and finding them: one ranked search over every kind, on SQLite or PostgreSQL.

Features call `index_document` and `remove_document` inside their own transaction, so what they write is
findable the moment it commits. Search never imports a feature: each one registers a function that yields its
documents (`register_source`), which `reindex` uses to build the index from scratch.
"""

import hashlib
import html
import math
import re
from dataclasses import dataclass, field

import nh3
import sqlalchemy as sa
from flask import current_app
from flask_babel import lazy_gettext as _l
from markupsafe import Markup

from community.core.errors import InputError
from community.extensions import db
from community.search.models import SearchDocument

KINDS = ("thread", "post", "case", "session")
KIND_LABELS = {"thread": _l("Question"), "post": _l("Answer"), "case": _l("Case study"), "session": _l("Session")}
KIND_FILTER_LABELS = {
    "thread": _l("Questions"),
    "post": _l("Answers and comments"),
    "case": _l("Case studies"),
    "session": _l("Sessions"),
}
QUERY_MAX = 200
TERMS_MAX = 8
TITLE_MAX = 300
BODY_MAX = 100_000
# Private-use characters mark the matches in snippets until the text is escaped; they never come from users.
MARK_START, MARK_END = "\ue001", "\ue002"
WORD = re.compile(r"\w+\*?")
# PostgreSQL: each language's configuration folds accents before stemming (so "gestao" finds "gestão"); the
# built-in one stems the words as written (so "avaliações" finds "avaliação", which the stemmer only knows with
# its accents). A document is indexed with both, a query is tried with every one.
TEXT_CONFIGS = {"pt_BR": "comunidade_pt", "es": "comunidade_es", "en": "comunidade_en"}
STEMMING_CONFIGS = {"pt_BR": "portuguese", "es": "spanish", "en": "english"}
SIMPLE_CONFIG = "comunidade_simple"

_sources = {}
# setweight() takes a "char"; a bound parameter would arrive as varchar.
_WEIGHT_A, _WEIGHT_D = sa.literal_column("'A'"), sa.literal_column("'D'")


class SearchInputError(InputError):
    """A query that cannot be searched for; `fields` says why."""


@dataclass
class Document:
    """What a feature hands over: the object's kind and id, its words, its page, and who may find it."""

    kind: str
    object_id: int
    title: str
    body: str
    url: str
    group_key: str = ""
    language: str | None = None
    areas: tuple = ()
    members_only: bool = False


def plain_text(html_text):
    """The words of rendered (already sanitised) HTML, without tags or entities."""
    return html.unescape(nh3.clean(html_text or "", tags=set())).strip()


def _clean(text, limit):
    text = (text or "").replace(MARK_START, "").replace(MARK_END, "").replace("\x00", "")
    return text[:limit]


# Writing.


def _regconfig(name):
    return sa.literal_column(f"'{name}'::regconfig")


def _weighted(configs, text, weight):
    """setweight(to_tsvector(first, text) || to_tsvector(second, text) ..., weight)."""
    vectors = [sa.func.to_tsvector(config, text) for config in configs]
    combined = vectors[0]
    for vector in vectors[1:]:
        combined = combined.op("||")(vector)
    return sa.func.setweight(combined, weight)


def _document_configs(language):
    configs = [_regconfig(TEXT_CONFIGS.get(language, SIMPLE_CONFIG))]
    if language in STEMMING_CONFIGS:
        configs.append(_regconfig(STEMMING_CONFIGS[language]))
    return configs


def _vector_expression(document):
    configs = _document_configs(document.language)
    title = _weighted(configs, sa.literal(document.title), _WEIGHT_A)
    return title.op("||")(_weighted(configs, sa.literal(document.body), _WEIGHT_D))


def _areas(codes):
    return " " + " ".join(sorted(set(codes))) + " " if codes else ""


# The columns a document writes, in this order; the full-text vector follows from the title and body.
STORED_FIELDS = ("group_key", "title", "body", "url", "language", "areas", "members_only")


def _stored_values(document):
    """What `index_document` stores for `document`, column by column (STORED_FIELDS)."""
    return (
        document.group_key or f"{document.kind}:{document.object_id}",
        _clean(document.title, TITLE_MAX),
        _clean(document.body, BODY_MAX),
        document.url,
        document.language,
        _areas(document.areas),
        bool(document.members_only),
    )


def _fingerprint(values):
    return hashlib.sha256(repr(tuple(values)).encode()).digest()


def index_document(document):
    """Add or replace a document in the index, in the caller's transaction (it commits)."""
    if document.kind not in KINDS:
        raise ValueError(f"unknown kind {document.kind!r}")
    document.title = _clean(document.title, TITLE_MAX)
    document.body = _clean(document.body, BODY_MAX)
    row = db.session.scalar(
        sa.select(SearchDocument).where(
            SearchDocument.kind == document.kind, SearchDocument.object_id == document.object_id
        )
    )
    if row is None:
        row = SearchDocument(kind=document.kind, object_id=document.object_id)
        db.session.add(row)
    for name, value in zip(STORED_FIELDS, _stored_values(document), strict=True):
        setattr(row, name, value)
    if db.session.get_bind().dialect.name == "postgresql":
        row.search_vector = _vector_expression(document)
    return row


def remove_document(kind, object_id):
    db.session.execute(
        sa.delete(SearchDocument).where(SearchDocument.kind == kind, SearchDocument.object_id == object_id)
    )


def update_group(group_key, areas=None, members_only=None):
    """Change who may find, or the areas of, every document of a group (a thread and its posts) at once."""
    values = {}
    if areas is not None:
        values["areas"] = _areas(areas)
    if members_only is not None:
        values["members_only"] = bool(members_only)
    if values:
        db.session.execute(sa.update(SearchDocument).where(SearchDocument.group_key == group_key).values(**values))


def retitle_group(group_key, kind, title):
    """Give every document of one kind in a group a new title (a thread's posts carry the thread's title)."""
    values = {"title": _clean(title, TITLE_MAX)}
    if db.session.get_bind().dialect.name == "postgresql":
        configs = [_config_of_row(), _config_of_row(STEMMING_CONFIGS)]
        values["search_vector"] = _weighted(configs, sa.literal(values["title"]), _WEIGHT_A).op("||")(
            _weighted(configs, SearchDocument.body, _WEIGHT_D)
        )
    db.session.execute(
        sa.update(SearchDocument)
        .where(SearchDocument.group_key == group_key, SearchDocument.kind == kind)
        .values(**values)
    )


def _config_of_row(configs=TEXT_CONFIGS):
    """The text search configuration of a row's language, in SQL (PostgreSQL); built from the constant names.
    A language without a stemmer of its own gets the simple configuration (twice, when both are asked for)."""
    return sa.literal_column(
        "(CASE search_documents.language "
        + " ".join(f"WHEN '{language}' THEN '{name}'" for language, name in configs.items())
        + f" ELSE '{SIMPLE_CONFIG}' END)::regconfig"
    )


def register_source(kind, documents):
    """A feature names the function yielding all its current documents, for rebuilding the index."""
    _sources[kind] = documents


def reindex():
    """Rebuild the whole index from every registered source; returns the count of documents per kind."""
    db.session.execute(sa.delete(SearchDocument))
    counts = {}
    for kind, documents in _sources.items():
        counts[kind] = 0
        for document in documents():
            index_document(document)
            counts[kind] += 1
    db.session.commit()
    return counts


@dataclass
class IndexState:
    """How the index differs from what the sources hand it now, as (kind, object id) pairs."""

    missing: list = field(default_factory=list)  # no document, though the source has one
    stale: list = field(default_factory=list)  # a document that says something other than its source now does
    left_over: list = field(default_factory=list)  # a document whose object no source has any more

    @property
    def up_to_date(self):
        return not (self.missing or self.stale or self.left_over)


def check(fix=False):
    """Compare every stored document with what its source would hand the index now; with `fix`, index the
    missing and stale ones and remove those left over (and commit). Returns what was found, before any fix.

    Only fingerprints of the stored documents are held, so a large index is checked in little memory.
    """
    columns = [SearchDocument.kind, SearchDocument.object_id, *(getattr(SearchDocument, n) for n in STORED_FIELDS)]
    unvectored = db.session.get_bind().dialect.name == "postgresql"
    if unvectored:
        columns.append(SearchDocument.search_vector.is_(None))
    stored = {}
    for row in db.session.execute(sa.select(*columns)):
        values = tuple(row[2 : 2 + len(STORED_FIELDS)])
        # A row without its vector (PostgreSQL) cannot be found, whatever its text says.
        stored[(row[0], row[1])] = None if unvectored and row[-1] else _fingerprint(values)
    state = IndexState()
    for documents in _sources.values():
        for document in documents():
            key = (document.kind, document.object_id)
            fingerprint = stored.pop(key, False)
            if fingerprint is False:
                state.missing.append(key)
            elif fingerprint != _fingerprint(_stored_values(document)):
                state.stale.append(key)
            else:
                continue
            if fix:
                index_document(document)
    state.left_over = sorted(stored)
    state.missing.sort()
    state.stale.sort()
    if fix and not state.up_to_date:
        for kind, object_id in state.left_over:
            remove_document(kind, object_id)
        db.session.commit()
    return state


# Reading.


@dataclass
class Query:
    terms: list  # (word, is_prefix)

    def fts5(self):
        """An FTS5 MATCH expression: every word, quoted, so nothing the user types is read as an operator."""
        return " ".join(f'"{word}"' + ("*" if prefix else "") for word, prefix in self.terms)

    def tsquery_text(self):
        return " & ".join(word + (":*" if prefix else "") for word, prefix in self.terms)


def parse_query(text):
    """The words of what the user typed; a word ending in * matches as a prefix (gest* finds gestão)."""
    text = (text or "").strip() if isinstance(text, str) else ""
    if not text:
        raise SearchInputError({"q": _l("Type a word or two to search for.")})
    if len(text) > QUERY_MAX:
        raise SearchInputError({"q": _l("Use at most %(max)d characters.", max=QUERY_MAX)})
    terms = []
    for match in WORD.finditer(text):
        token = match.group(0)
        prefix = token.endswith("*")
        word = token.rstrip("*").replace("_", " ").strip()
        for part in word.split():
            if part and (part.lower(), prefix) not in terms:
                terms.append((part.lower(), prefix))
    if not terms:
        raise SearchInputError({"q": _l("Type a word or two to search for.")})
    return Query(terms[:TERMS_MAX])


@dataclass
class Result:
    kind: str
    title: str
    url: str
    snippet: Markup
    title_html: Markup
    language: str | None

    @property
    def kind_label(self):
        return KIND_LABELS[self.kind]


@dataclass
class ResultPage:
    """One page of results, shaped like Flask-SQLAlchemy's pagination for the pager macro."""

    items: list
    page: int
    per_page: int
    total: int
    capped: bool

    @property
    def pages(self):
        return max(1, math.ceil(self.total / self.per_page)) if self.total else 0

    @property
    def has_prev(self):
        return self.page > 1

    @property
    def has_next(self):
        return self.page < self.pages

    @property
    def prev_num(self):
        return self.page - 1

    @property
    def next_num(self):
        return self.page + 1


def highlighted(text):
    """Escape the text and turn the engine's match markers into <mark>."""
    escaped = str(Markup.escape(text or ""))
    return Markup(escaped.replace(MARK_START, "<mark>").replace(MARK_END, "</mark>"))  # noqa: S704 (escaped above)


def _filters(kind, area, signed_in):
    conditions = []
    if kind:
        conditions.append(SearchDocument.kind == kind)
    if area:
        conditions.append(SearchDocument.areas.contains(f" {area} ", autoescape=True))
    if not signed_in:
        conditions.append(SearchDocument.members_only.is_(False))
    return conditions


def search(text, kind=None, area=None, signed_in=False, page=1, per_page=20):
    """Rank the newest matches of `text` (at most SEARCH_CANDIDATES of them) and return one page of results.

    Ranking every match of a very common word is what costs, so the candidates are the newest matches first and
    only those are ranked; ties keep the newest first.
    """
    query = parse_query(text)
    if kind is not None and kind not in KINDS:
        raise SearchInputError({"kind": _l("Choose what to search: questions, answers, case studies or sessions.")})
    cap = current_app.config["SEARCH_CANDIDATES"]
    conditions = _filters(kind, area, signed_in)
    if db.session.get_bind().dialect.name == "postgresql":
        ids, total = _postgres_page(query, conditions, cap, page, per_page)
        rows = _postgres_rows(query, ids)
    else:
        ids, total = _sqlite_page(query, conditions, cap, page, per_page)
        rows = _sqlite_rows(query, ids)
    items = []
    for doc_id in ids:
        row = rows.get(doc_id)
        if row is None:
            continue
        kind_, title, url, language, title_html, snippet = row
        items.append(Result(kind_, title, url, highlighted(snippet), highlighted(title_html), language))
    return ResultPage(items=items, page=page, per_page=per_page, total=total, capped=total >= cap)


# SQLite: FTS5, bm25 with the title weighing five times the body.

_fts = sa.table("search_fts", sa.column("rowid"))
_fts_match = sa.literal_column("search_fts").op("MATCH")


def _sqlite_page(query, conditions, cap, page, per_page):
    match = _fts_match(sa.bindparam("q", query.fts5()))
    # The documents' table is joined only when a filter reads it.
    joined = _fts.join(SearchDocument, SearchDocument.id == _fts.c.rowid) if conditions else _fts
    # FTS5 walks a word's matches newest first and stops at the cap; the oldest candidate's rowid then bounds the
    # ranking to exactly those candidates, as a rowid range FTS5 applies itself.
    candidates = (
        sa.select(_fts.c.rowid.label("rowid"))
        .select_from(joined)
        .where(match, *conditions)
        .order_by(_fts.c.rowid.desc())
        .limit(cap)
        .subquery()
    )
    oldest, total = db.session.execute(sa.select(sa.func.min(candidates.c.rowid), sa.func.count())).one()
    if not total:
        return [], 0
    score = sa.literal_column("bm25(search_fts, 5.0, 1.0)")
    ranked = (
        sa.select(_fts.c.rowid)
        .select_from(joined)
        .where(match, _fts.c.rowid >= oldest, *conditions)
        .order_by(score, _fts.c.rowid.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(db.session.scalars(ranked)), total


def _sqlite_rows(query, ids):
    if not ids:
        return {}
    statement = sa.text(
        "SELECT d.id, d.kind, d.title, d.url, d.language, "
        "highlight(search_fts, 0, :start, :end), snippet(search_fts, 1, :start, :end, '…', 24) "
        "FROM search_fts JOIN search_documents d ON d.id = search_fts.rowid "
        "WHERE search_fts MATCH :q AND search_fts.rowid IN :ids"
    ).bindparams(sa.bindparam("ids", expanding=True))
    result = db.session.execute(statement, {"q": query.fts5(), "ids": ids, "start": MARK_START, "end": MARK_END})
    return {row[0]: row[1:] for row in result}


# PostgreSQL: the document's own language stems it; the query is tried in each language.


def _tsquery(query):
    text = query.tsquery_text()
    parts = [
        sa.func.to_tsquery(_regconfig(config), sa.literal(text))
        for config in (*TEXT_CONFIGS.values(), *STEMMING_CONFIGS.values(), SIMPLE_CONFIG)
    ]
    combined = parts[0]
    for part in parts[1:]:
        combined = combined.op("||")(part)
    return combined


def _postgres_page(query, conditions, cap, page, per_page):
    tsquery = _tsquery(query)
    vector = SearchDocument.search_vector
    matches = vector.op("@@")(tsquery)
    candidates = (
        sa.select(SearchDocument.id)
        .where(matches, *conditions)
        .order_by(SearchDocument.id.desc())
        .limit(cap)
        .subquery()
    )
    oldest, total = db.session.execute(sa.select(sa.func.min(candidates.c.id), sa.func.count())).one()
    if not total:
        return [], 0
    ranked = (
        sa.select(SearchDocument.id)
        .where(matches, SearchDocument.id >= oldest, *conditions)
        .order_by(sa.func.ts_rank(vector, tsquery).desc(), SearchDocument.id.desc())
        .limit(per_page)
        .offset((page - 1) * per_page)
    )
    return list(db.session.scalars(ranked)), total


def _postgres_rows(query, ids):
    if not ids:
        return {}
    tsquery = _tsquery(query)
    options = f"StartSel={MARK_START}, StopSel={MARK_END}"
    config = _config_of_row()
    statement = sa.select(
        SearchDocument.id,
        SearchDocument.kind,
        SearchDocument.title,
        SearchDocument.url,
        SearchDocument.language,
        sa.func.ts_headline(config, SearchDocument.title, tsquery, options + ", HighlightAll=true"),
        sa.func.ts_headline(config, SearchDocument.body, tsquery, options + ", MaxWords=35, MinWords=15"),
    ).where(SearchDocument.id.in_(ids))
    return {row[0]: row[1:] for row in db.session.execute(statement)}
