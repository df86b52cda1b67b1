"""Threads benchmark (issue 3): SQL queries per page, render times at scale, and served throughput.

    .venv/bin/python bench/threads.py           # the full run
    .venv/bin/python bench/threads.py --quick   # smaller data and shorter runs
    .venv/bin/python bench/threads.py --profile # also a cProfile of the slowest in-process page, on stderr

Progress goes to stderr; the last line of stdout is one JSON object with every figure. Everything lives in a
temporary directory that is removed afterwards, and the only network traffic is to 127.0.0.1.

1. queries: statements per request, counted with a `before_cursor_execute` listener, for a thread page with 5, 50
   and 500 replies (signed in as a participant, and as a visitor) and for the list page with and without filters.
   The data is made through the services, as people would make it.
2. scale: a SQLite file with 20,000 threads and 200,000 posts, inserted with Core executemany; median and p95 of
   in-process renders (app.test_client) of list pages and of random thread pages.
3. throughput: gunicorn with two workers (gevent, then gthread) serving that file, and wrk with 8 connections on
   a thread page with 50 replies of about 100 words, as a visitor and signed in.
"""

import argparse
import contextlib
import cProfile
import io
import json
import os
import platform
import pstats
import random
import re
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
import urllib.request
from dataclasses import asdict, dataclass
from datetime import UTC, datetime, timedelta
from http.client import HTTPConnection
from http.cookies import SimpleCookie
from pathlib import Path

sys.path.remove(str(Path(__file__).resolve().parent))  # bench/, whose markdown.py would hide Markdown
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # the project, when run as bench/threads.py

import sqlalchemy as sa
from slugify import slugify
from werkzeug.security import generate_password_hash

from community import create_app
from community.auth import services as accounts
from community.auth.models import User
from community.cities.models import City
from community.core.markdown import render as render_markdown
from community.extensions import db
from community.framework import loader as framework
from community.framework.models import Criterion, PracticeArea
from community.notifications.models import NotificationSettings
from community.threads import services as threads
from community.threads.models import Post, Subscription, Tag, Thread, Vote, thread_criteria, thread_tags

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "correct horse battery"  # noqa: S105 (made-up people on a throwaway database)
HASH_METHOD = "pbkdf2:sha256:1000"  # the testing setting; a stored hash names its method, so any app checks it
USER_AGENT = "comunidade-bench"  # the same on sign-in and after, so Flask-Login's session protection holds
QUERY_LIMIT = 10
TARGET_MEDIAN_MS = 50
REFERENCE_RPS = 25  # a classic Flask forum on this machine, according to the issue
SEED = 20250301


@dataclass(frozen=True)
class Sizes:
    threads: int
    posts: int  # questions included
    users: int
    requests: int  # timed in-process requests per page
    warmup: int
    seconds: int  # per wrk run


FULL = Sizes(threads=20_000, posts=200_000, users=400, requests=60, warmup=5, seconds=20)
QUICK = Sizes(threads=2_000, posts=20_000, users=120, requests=20, warmup=2, seconds=5)


def log(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def machine():
    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": cpu,
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
        "sqlalchemy": sa.__version__,
        "loadavg_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# --- Realistic text: Portuguese and Spanish questions about city data work. -------------------------------------

CITIES = [
    ("Mogi das Cruzes", "São Paulo", "BR"), ("Fortaleza", "Ceará", "BR"), ("Recife", "Pernambuco", "BR"),
    ("Novo Hamburgo", "Rio Grande do Sul", "BR"), ("Niterói", "Rio de Janeiro", "BR"), ("Campinas", "São Paulo", "BR"),
    ("Curitiba", "Paraná", "BR"), ("Belo Horizonte", "Minas Gerais", "BR"), ("Salvador", "Bahia", "BR"),
    ("Porto Alegre", "Rio Grande do Sul", "BR"), ("Florianópolis", "Santa Catarina", "BR"),
    ("Jundiaí", "São Paulo", "BR"), ("Juiz de Fora", "Minas Gerais", "BR"), ("Natal", "Rio Grande do Norte", "BR"),
    ("João Pessoa", "Paraíba", "BR"),
    ("Vitória", "Espírito Santo", "BR"), ("Goiânia", "Goiás", "BR"), ("Caruaru", "Pernambuco", "BR"),
    ("Teresina", "Piauí", "BR"), ("Santos", "São Paulo", "BR"), ("Buenos Aires", "CABA", "AR"),
    ("Córdoba", "Córdoba", "AR"), ("Rosario", "Santa Fe", "AR"), ("Mendoza", "Mendoza", "AR"),
    ("Bahía Blanca", "Buenos Aires", "AR"), ("Bogotá", "Cundinamarca", "CO"), ("Medellín", "Antioquia", "CO"),
    ("Cali", "Valle del Cauca", "CO"), ("Barranquilla", "Atlántico", "CO"), ("Bucaramanga", "Santander", "CO"),
    ("Ciudad de México", "CDMX", "MX"), ("Guadalajara", "Jalisco", "MX"), ("Monterrey", "Nuevo León", "MX"),
    ("Puebla", "Puebla", "MX"), ("Mérida", "Yucatán", "MX"), ("Santiago", "Región Metropolitana", "CL"),
    ("Valparaíso", "Valparaíso", "CL"), ("Lima", "Lima", "PE"), ("Montevideo", "Montevideo", "UY"),
    ("Quito", "Pichincha", "EC"),
]  # fmt: skip
ZONES = {
    "BR": "America/Sao_Paulo", "AR": "America/Argentina/Buenos_Aires", "CO": "America/Bogota",
    "MX": "America/Mexico_City", "CL": "America/Santiago", "PE": "America/Lima", "UY": "America/Montevideo",
    "EC": "America/Guayaquil",
}  # fmt: skip
FIRST_NAMES = [
    "Ana", "Beatriz", "Carlos", "Daniela", "Eduardo", "Fernanda", "Gabriel", "Helena", "Igor", "Juliana", "Lucas",
    "Mariana", "Nicolás", "Patricia", "Rafael", "Sofía", "Tiago", "Valentina", "Camila", "Diego", "Luisa", "Mateo",
    "Paula", "Andrés", "Renata", "Joaquín", "Larissa", "Santiago", "Isabela", "Martín",
]  # fmt: skip
LAST_NAMES = [
    "Souza", "Rocha", "Lima", "Duarte", "Oliveira", "Pereira", "Costa", "Almeida", "Ribeiro", "Carvalho", "García",
    "Rodríguez", "Martínez", "López", "González", "Fernández", "Pérez", "Gómez", "Díaz", "Torres", "Ramírez",
    "Castro", "Vargas", "Moreno", "Barbosa", "Teixeira",
]  # fmt: skip
TAGS = [
    "inventario", "governanca", "dados-abertos", "orcamento", "contratos", "avaliacao", "painel", "indicadores",
    "lgpd", "portal", "api", "planilha", "bi", "capacitacao", "lideranca", "transparencia", "geodados", "saude",
    "educacao", "mobilidade", "seguranca", "licitacao", "metas", "participacao", "ouvidoria",
    "georreferenciamento", "qualidade-de-dados", "catalogo", "interoperabilidade", "experimentos",
]  # fmt: skip
VOCABULARY = {
    "pt_BR": [
        "a", "prefeitura", "secretaria", "equipe", "dados", "planilha", "inventário", "painel", "indicadores",
        "metas", "orçamento", "contrato", "fornecedor", "avaliação", "resultado", "cidadão", "serviço", "portal",
        "transparência", "gestão", "processo", "sistema", "base", "responsável", "atualização", "mensal",
        "publicação", "qualidade", "padrão", "catálogo", "decreto", "comitê", "prioridade", "projeto", "piloto",
        "bairro", "escola", "saúde", "mobilidade", "licitação", "edital", "pagamento", "desempenho", "meta",
        "relatório", "reunião", "usamos", "fizemos", "começamos", "publicamos", "medimos", "definimos", "criamos",
        "revisamos", "acompanhamos", "testamos", "com", "para", "sobre", "cada", "também", "ainda", "depois",
        "antes", "junto", "entre", "quando", "porque", "então", "mas", "muito", "pouco", "novo", "primeiro",
        "último", "público", "aberto", "interno", "municipal", "simples", "claro", "rápido", "difícil", "útil",
    ],
    "es": [
        "la", "municipalidad", "secretaría", "equipo", "datos", "planilla", "inventario", "tablero", "indicadores",
        "metas", "presupuesto", "contrato", "proveedor", "evaluación", "resultado", "vecino", "servicio", "portal",
        "transparencia", "gestión", "proceso", "sistema", "base", "responsable", "actualización", "mensual",
        "publicación", "calidad", "estándar", "catálogo", "decreto", "comité", "prioridad", "proyecto", "piloto",
        "barrio", "escuela", "salud", "movilidad", "licitación", "pliego", "pago", "desempeño", "meta", "informe",
        "reunión", "usamos", "hicimos", "empezamos", "publicamos", "medimos", "definimos", "creamos", "revisamos",
        "seguimos", "probamos", "con", "para", "sobre", "cada", "también", "todavía", "después", "antes", "junto",
        "entre", "cuando", "porque", "entonces", "pero", "mucho", "poco", "nuevo", "primero", "último", "público",
        "abierto", "interno", "municipal", "simple", "claro", "rápido", "difícil", "útil",
    ],
}  # fmt: skip
TITLE_TEMPLATES = {
    "pt_BR": [
        "Como vocês organizaram {a} e {b}?",
        "Alguém já publicou {a} no portal da prefeitura?",
        "Dúvida sobre {a} para o critério {code}",
        "Qual ferramenta vocês usam para {a}?",
        "Experiências com {a} e {b} em cidades médias",
    ],
    "es": [
        "¿Cómo organizaron {a} y {b}?",
        "¿Alguien ya publicó {a} en el portal municipal?",
        "Duda sobre {a} para el criterio {code}",
        "¿Qué herramienta usan para {a}?",
        "Experiencias con {a} y {b} en ciudades medianas",
    ],
}


class Text:
    """Titles and Markdown bodies of roughly a given length, in Portuguese or Spanish."""

    def __init__(self, rng):
        self.rng = rng

    def sentence(self, language):
        words = self.rng.choices(VOCABULARY[language], k=self.rng.randint(8, 14))
        return " ".join(words).capitalize() + "."

    def body(self, language, words=50):
        parts, count = [], 0
        while count < words:
            sentence = self.sentence(language)
            parts.append(sentence)
            count += len(sentence.split())
        if self.rng.random() < 0.4:
            parts[0] = f"**{parts[0]}**"
        text = " ".join(parts)
        if self.rng.random() < 0.3:
            items = "\n".join(f"- {self.sentence(language)}" for _ in range(3))
            text += f"\n\n{items}"
        if self.rng.random() < 0.2:
            text += "\n\nVeja [o exemplo](https://dados.example.org/catalogo)."
        return text

    def title(self, language, code):
        a, b = (" ".join(self.rng.choices(VOCABULARY[language][:60], k=2)) for _ in range(2))
        return self.rng.choice(TITLE_TEMPLATES[language]).format(a=a, b=b, code=code)


# --- Apps and requests. ------------------------------------------------------------------------------------------


def make_app(database_url, workdir):
    """An app with the testing settings (CSRF off, so sign-in is a plain POST) on the given database."""
    return create_app("testing", {"SQLALCHEMY_DATABASE_URI": database_url, "MAIL_OUTBOX": str(workdir / "outbox")})


def load_framework():
    framework.load(framework.read_file(framework.SHIPPED_FILE))
    db.session.commit()


def signed_in_client(app, email):
    client = app.test_client()
    response = client.post("/login", data={"email": email, "password": PASSWORD})
    if response.status_code != 302:
        raise RuntimeError(f"signing in as {email} failed with {response.status_code}")
    return client


def fetch(client, url):
    response = client.get(url)
    if response.status_code != 200:
        raise RuntimeError(f"GET {url} answered {response.status_code}")
    return response


class QueryCounter:
    """Counts every statement the engine sends, through a `before_cursor_execute` listener."""

    def __init__(self, engine):
        self.total = 0
        sa.event.listen(engine, "before_cursor_execute", self._count)

    def _count(self, *_args):
        self.total += 1

    def queries_for(self, client, url):
        """Statements for one request of `url`, after a first request has warmed whatever is done once."""
        fetch(client, url)
        before = self.total
        fetch(client, url)
        return self.total - before


# --- 1. Query counts. --------------------------------------------------------------------------------------------

REPLY_COUNTS = (5, 50, 500)
LIST_FILTERS = {
    "list_area_DM": "?area=DM",
    "list_status_unanswered": "?status=unanswered",
    "list_tag": "?tag=inventario",
    "list_criterion": "?criterion=DM2",
    "list_city": "?city=recife",
    "list_area_status_tag": "?area=DM&status=unanswered&tag=inventario",
    "list_page_2": "?page=2",
}


def make_people(count_cities=4):
    """A few cities, an asker, a viewer, a mentor and repliers from several cities; e-mail notices off."""
    cities = [City(name=name, slug=slugify(name), state=state, country=country) for name, state, country in CITIES]
    cities = cities[:count_cities]  # Mogi das Cruzes, Fortaleza, Recife, Novo Hamburgo
    db.session.add_all(cities)
    db.session.flush()
    names = ["Beatriz Rocha", "Rafael Lima", "Helena Duarte", "Carlos Pereira", "Sofía García", "Mateo López"]
    people = {}
    for index, name in enumerate(names):
        role = "mentor" if name == "Helena Duarte" else "participant"
        city = None if role == "mentor" else cities[index % count_cities]
        email = f"{slugify(name, separator='.')}@example.org"
        people[name] = accounts.create_user(email, name, PASSWORD, role=role, city=city, confirm_city=True)
    db.session.flush()
    db.session.add_all(NotificationSettings(user_id=user.id, email="never") for user in people.values())
    db.session.commit()
    return list(people.values())


def make_discussed_thread(text, asker, viewer, repliers, replies):
    """A question with `replies` answers and comments, votes by the viewer and an accepted answer."""
    rng = text.rng
    thread = threads.create_thread(
        asker, text.title("pt_BR", "DM2"), text.body("pt_BR"), "DM", ["DM1", "DM2"], "inventario, governanca"
    )
    answers = []
    for index in range(replies):
        author = repliers[index % len(repliers)]
        parent = None
        if answers and index % 3 == 2:
            parent = rng.choice([thread.question, *answers])
        post = threads.add_post(thread, author, text.body("pt_BR"), parent)
        if parent is None:
            answers.append(post)
    for answer in answers[::3]:
        if answer.author_id != viewer.id:
            threads.toggle_vote(answer, viewer)
    threads.toggle_accept(answers[min(1, len(answers) - 1)], asker)
    return thread.id


def make_list_threads(text, people, count=25):
    areas = ["DM", "LC", "OD", "PA", "BF", "RDC", "CI", "EVAL"]
    for index in range(count):
        area = areas[index % len(areas)]
        tags = "inventario, painel" if index % 3 == 0 else "orcamento"
        thread = threads.create_thread(
            people[index % len(people)], text.title("es", f"{area}1"), text.body("es"), area, [f"{area}1"], tags
        )
        if index % 4 == 0:
            threads.add_post(thread, people[(index + 1) % len(people)], text.body("es"))


def measure_queries(workdir):
    """Query counts per page; the data comes from the services, on an in-memory database."""
    app = make_app("sqlite://", workdir)
    text = Text(random.Random(SEED))
    with app.app_context():
        db.create_all()
        load_framework()
        with app.test_request_context():
            people = make_people()
            # The viewer votes but does not reply, so no query of the page happens to load them on the way.
            asker, viewer = people[0], people[1]
            repliers = [person for person in people if person is not viewer]
            log(f"queries: making threads with {', '.join(map(str, REPLY_COUNTS))} replies through the services")
            thread_ids = {n: make_discussed_thread(text, asker, viewer, repliers, n) for n in REPLY_COUNTS}
            make_list_threads(text, people)
        viewer_email = viewer.email
        counter = QueryCounter(db.engine)
    member, visitor = signed_in_client(app, viewer_email), app.test_client()
    counts = {}
    for n, thread_id in thread_ids.items():
        counts[f"thread_{n}"] = counter.queries_for(member, f"/threads/{thread_id}")
        counts[f"thread_{n}_visitor"] = counter.queries_for(visitor, f"/threads/{thread_id}")
    counts["list"] = counter.queries_for(member, "/threads/")
    counts["list_visitor"] = counter.queries_for(visitor, "/threads/")
    for name, query in LIST_FILTERS.items():
        counts[name] = counter.queries_for(member, f"/threads/{query}")
    summary = {
        "limit": QUERY_LIMIT,
        "within_limit": max(counts.values()) <= QUERY_LIMIT,
        "constant_per_thread": all(
            len({counts[f"thread_{n}{who}"] for n in REPLY_COUNTS}) == 1 for who in ("", "_visitor")
        ),
    }
    log(f"queries: {counts}")
    return counts, summary


# --- 2. Scale: the data. -----------------------------------------------------------------------------------------

TARGET_THREAD_ID = 1  # 50 replies of about 100 words, public: the page served in part 3
TARGET_REPLIES = 50
BATCH = 10_000
TABLES = {  # in the order they are filled
    "cities": City.__table__,
    "users": User.__table__,
    "tags": Tag.__table__,
    "threads": Thread.__table__,
    "posts": Post.__table__,
    "votes": Vote.__table__,
    "subscriptions": Subscription.__table__,
    "thread_criteria": thread_criteria,
    "thread_tags": thread_tags,
}


@dataclass
class ScaleDatabase:
    path: Path
    figures: dict
    thread_count: int
    public_ids: list
    viewer_email: str  # a participant who voted on some answers of the target thread


class ScaleData:
    """Rows for every table, consistent with what the services would have stored (counts, scores, activity)."""

    def __init__(self, sizes, rng, areas, criteria_by_area):
        self.sizes, self.rng, self.text = sizes, rng, Text(rng)
        self.areas, self.criteria_by_area = areas, criteria_by_area
        self.now = datetime.now(UTC).replace(microsecond=0)
        self.rows = {name: [] for name in TABLES}
        self.bodies = {"pt_BR": [], "es": []}
        self.html = {}
        self.next_post_id = 1

    def build(self):
        self._cities()
        self._users()
        self.rows["tags"] = [{"id": i, "name": name} for i, name in enumerate(TAGS, start=1)]
        self._body_pools()
        replies = self._reply_counts()
        for thread_id, count in enumerate(replies, start=1):
            self._thread(thread_id, count)
        return self.rows

    def _cities(self):
        self.rows["cities"] = [
            {
                "id": i,
                "name": name,
                "slug": slugify(name),
                "state": state,
                "country": country,
                "population": self.rng.randint(150_000, 9_000_000),
                "created_at": self.now,
                "updated_at": self.now,
            }
            for i, (name, state, country) in enumerate(CITIES, start=1)
        ]

    def _users(self):
        password_hash = generate_password_hash(PASSWORD, method=HASH_METHOD)
        for user_id in range(1, self.sizes.users + 1):
            # The first user is the benchmark's signed-in participant; a few are mentors and admins.
            role = "admin" if user_id % 150 == 0 else "mentor" if user_id % 30 == 0 else "participant"
            city = self.rows["cities"][user_id % len(CITIES)] if role == "participant" else None
            name = f"{self.rng.choice(FIRST_NAMES)} {self.rng.choice(LAST_NAMES)}"
            handle = f"{slugify(name, separator='_')[:24]}_{user_id}"
            self.rows["users"].append(
                {
                    "id": user_id,
                    "email": f"{handle}@example.org",
                    "handle": handle,
                    "display_name": name,
                    "password_hash": password_hash,
                    "role": role,
                    "active": True,
                    "locale": "pt_BR" if city is None or city["country"] == "BR" else "es",
                    "timezone": ZONES[city["country"]] if city else "America/Sao_Paulo",
                    "session_token": f"bench-{user_id}",
                    "city_id": city["id"] if city else None,
                    "city_confirmed_at": self.now if city and user_id % 10 else None,
                    "created_at": self.now,
                    "updated_at": self.now,
                }
            )

    def _body_pools(self):
        """Distinct bodies, each rendered once; posts share them as real forums share boilerplate."""
        pool = max(200, self.sizes.posts // 60)
        for language in self.bodies:
            for _ in range(pool):
                self._add_body(language, self.text.body(language, 50))
        self.long_bodies = [self._add_body("pt_BR", self.text.body("pt_BR", 100), pool=False) for _ in range(60)]

    def _add_body(self, language, body, pool=True):
        self.html.setdefault(body, render_markdown(body))
        if pool:
            self.bodies[language].append(body)
        return body

    def _reply_counts(self):
        """Replies per thread, skewed (most threads have a few, some have hundreds), summing exactly."""
        others = self.sizes.threads - 1
        total = self.sizes.posts - self.sizes.threads - TARGET_REPLIES
        weights = [self.rng.expovariate(1.0) ** 2 for _ in range(others)]
        counts = [0] * others
        for index in self.rng.choices(range(others), weights=weights, k=total):
            counts[index] += 1
        return [TARGET_REPLIES, *counts]

    def _post_id(self):
        self.next_post_id += 1
        return self.next_post_id - 1

    def _post(self, thread_id, author, kind, at, parent_id=None, body=None, language="pt_BR"):
        body = body or self.rng.choice(self.bodies[language])
        post = {
            "id": self._post_id(),
            "thread_id": thread_id,
            "author_id": author["id"],
            "parent_id": parent_id,
            "kind": kind,
            "body": body,
            "body_html": self.html[body],
            "score": 0,
            "hidden": self.rng.random() < 0.005,
            "revision_count": 0,
            "created_at": at,
            "edited_at": None,
        }
        if kind != "comment":
            voters = self.rng.sample(self.rows["users"], min(int(self.rng.expovariate(1.0)), 20))
            post["score"] = self._votes(post, voters)
        self.rows["posts"].append(post)
        return post

    def _votes(self, post, voters):
        ids = {user["id"] for user in voters} - {post["author_id"]}
        self.rows["votes"].extend({"post_id": post["id"], "user_id": u, "created_at": post["created_at"]} for u in ids)
        return len(ids)

    def _thread(self, thread_id, replies):
        rng, users = self.rng, self.rows["users"]
        target = thread_id == TARGET_THREAD_ID
        asker = users[1] if target else rng.choice(users)
        language = asker["locale"]
        area_code = "DM" if target else rng.choice(list(self.areas))
        criteria = rng.sample(self.criteria_by_area[area_code], rng.randint(0, 3))
        created = self.now - timedelta(days=rng.uniform(0, 730))
        question = self._post(thread_id, asker, "question", created, language=language)
        at, answers, repliers = created, [], {asker["id"]}
        for index in range(replies):
            at = min(at + timedelta(minutes=rng.expovariate(1 / 360)), self.now)
            author = rng.choice(users)
            parent = rng.choice([question, *answers]) if answers and rng.random() < 0.35 else None
            body = self.long_bodies[index % len(self.long_bodies)] if target else None
            post = self._post(
                thread_id, author, "comment" if parent else "answer", at, parent and parent["id"], body, language
            )
            if target and parent is None and index % 3 == 0:
                post["score"] += self._votes(post, [users[0]])  # the signed-in viewer voted on some answers
            if parent is None:
                answers.append(post)
            repliers.add(author["id"])
        accepted = rng.choice(answers)["id"] if answers and (target or rng.random() < 0.5) else None
        self.rows["threads"].append(
            {
                "id": thread_id,
                "title": self.text.title(language, criteria[0][1] if criteria else f"{area_code}1"),
                "author_id": asker["id"],
                "city_id": asker["city_id"] if asker["city_confirmed_at"] else None,
                "practice_area_id": self.areas[area_code],
                "visibility": "members" if not target and rng.random() < 0.1 else "public",
                "language": language,
                "pinned": thread_id in (2, 3, 4),
                "locked": not target and rng.random() < 0.01,
                "created_at": created,
                "last_activity_at": at,
                "reply_count": replies,
                "score": question["score"],
                "question_id": question["id"],
                "accepted_post_id": accepted,
            }
        )
        self.rows["subscriptions"].extend({"user_id": u, "thread_id": thread_id, "level": "watching"} for u in repliers)
        self.rows["thread_criteria"].extend({"thread_id": thread_id, "criterion_id": c} for c, _code in criteria)
        tags = rng.sample(self.rows["tags"], rng.choice((0, 1, 2, 2, 3)))
        self.rows["thread_tags"].extend({"thread_id": thread_id, "tag_id": tag["id"]} for tag in tags)


def bulk_insert(engine, rows):
    """Core insert() executemany, one transaction per batch of rows."""
    for name, table in TABLES.items():
        for start in range(0, len(rows[name]), BATCH):
            with engine.begin() as connection:
                connection.execute(table.insert(), rows[name][start : start + BATCH])


def build_scale_database(path, workdir, sizes):
    """The schema, the shipped framework and the generated rows in a SQLite file; returns it with its figures."""
    app = make_app(f"sqlite:///{path}", workdir)
    started = time.perf_counter()
    with app.app_context():
        db.create_all()
        load_framework()
        areas = dict(db.session.execute(sa.select(PracticeArea.code, PracticeArea.id)).all())
        criteria = {code: [] for code in areas}
        for area_code, criterion_id, criterion_code in db.session.execute(
            sa.select(PracticeArea.code, Criterion.id, Criterion.code).join(Criterion.practice_area)
        ):
            criteria[area_code].append((criterion_id, criterion_code))
        data = ScaleData(sizes, random.Random(SEED), areas, criteria)
        rows = data.build()
        generated = time.perf_counter()
        log(f"scale: generated {len(rows['posts']):,} posts in {generated - started:.1f}s; inserting")
        bulk_insert(db.engine, rows)
        inserted = time.perf_counter()
        db.engine.dispose()
    figures = {
        "threads": len(rows["threads"]),
        "posts": len(rows["posts"]),
        "votes": len(rows["votes"]),
        "users": len(rows["users"]),
        "cities": len(rows["cities"]),
        "distinct_bodies": len(data.html),
        "max_replies": max(t["reply_count"] for t in rows["threads"]),
        "generate_seconds": round(generated - started, 2),
        "insert_seconds": round(inserted - generated, 2),
        "build_seconds": round(inserted - started, 2),
    }
    log(f"scale: built in {figures['build_seconds']}s ({figures})")
    return ScaleDatabase(
        path=path,
        figures=figures,
        thread_count=len(rows["threads"]),
        public_ids=[thread["id"] for thread in rows["threads"] if thread["visibility"] == "public"],
        viewer_email=rows["users"][0]["email"],
    )


# --- 2. Scale: in-process render times. ---------------------------------------------------------------------------


def percentile(values, share):
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def time_requests(client, urls, counter, warmup):
    """Render each url in turn (after `warmup` untimed ones): wall-clock median and p95 in ms, the median CPU time
    (less disturbed by other work on a shared machine), and queries per request."""
    for url in urls[:warmup]:
        fetch(client, url)
    wall, cpu, queries = [], [], []
    for url in urls:
        before, started, cpu_started = counter.total, time.perf_counter(), time.thread_time()
        fetch(client, url)
        wall.append((time.perf_counter() - started) * 1000)
        cpu.append((time.thread_time() - cpu_started) * 1000)
        queries.append(counter.total - before)
    return {
        "median_ms": round(statistics.median(wall), 2),
        "p95_ms": round(percentile(wall, 0.95), 2),
        "cpu_median_ms": round(statistics.median(cpu), 2),
        "n": len(wall),
        "queries": max(queries),
    }


def scale_cases(sizes, database, rng):
    """(name, who, urls): list pages repeated, thread pages at random."""
    n = sizes.requests
    last_page = max(1, min(500, database.thread_count // 20))

    def threads_at_random(ids):
        return [f"/threads/{rng.choice(ids)}" for _ in range(n)]

    return [
        ("list_first", "visitor", ["/threads/"] * n),
        ("list_first_signed_in", "member", ["/threads/"] * n),
        ("list_area_DM", "visitor", ["/threads/?area=DM"] * n),
        ("list_unanswered", "visitor", ["/threads/?status=unanswered"] * n),
        ("list_area_DM_unanswered", "visitor", ["/threads/?area=DM&status=unanswered"] * n),
        ("list_tag", "visitor", ["/threads/?tag=inventario"] * n),
        ("list_sort_votes", "visitor", ["/threads/?sort=votes"] * n),
        (f"list_page_{last_page}", "visitor", [f"/threads/?page={last_page}"] * n),
        ("thread_random_visitor", "visitor", threads_at_random(database.public_ids)),
        ("thread_random_signed_in", "member", threads_at_random(range(1, database.thread_count + 1))),
        ("thread_50_replies_signed_in", "member", [f"/threads/{TARGET_THREAD_ID}"] * n),
    ]


def measure_scale(database, workdir, sizes, profile=False):
    """In-process renders through app.test_client, as a visitor and as a signed-in participant."""
    app = make_app(f"sqlite:///{database.path}", workdir)
    with app.app_context():
        counter = QueryCounter(db.engine)
    clients = {"visitor": app.test_client(), "member": signed_in_client(app, database.viewer_email)}
    cases = scale_cases(sizes, database, random.Random(SEED + 1))
    pages = {}
    for name, who, urls in cases:
        pages[name] = time_requests(clients[who], urls, counter, sizes.warmup)
        log(f"scale: {name:28} {pages[name]}")
    slowest = max(pages, key=lambda name: pages[name]["median_ms"])
    if profile:
        _name, who, urls = next(case for case in cases if case[0] == slowest)
        log(f"scale: profile of {slowest}\n{profile_requests(clients[who], urls)}")
    with app.app_context():
        db.engine.dispose()
    return {
        "data": database.figures,
        "pages": pages,
        "target_median_ms": TARGET_MEDIAN_MS,
        "slowest": slowest,
        "target_met": pages[slowest]["median_ms"] < TARGET_MEDIAN_MS,
    }


def profile_requests(client, urls, top=30):
    profiler = cProfile.Profile()
    profiler.enable()
    for url in urls:
        fetch(client, url)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    return out.getvalue()


# --- 3. Throughput: gunicorn and wrk. -----------------------------------------------------------------------------

WORKERS = {
    "gevent": ["-k", "gevent"],
    "gthread": ["-k", "gthread", "--threads", "4"],
}


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def gunicorn(worker, database, workdir, timeout=60):
    """Serve wsgi:app with two workers of the given kind; yield (host, port, pid); stop the server afterwards."""
    port = free_port()
    env = {
        **os.environ,
        "APP_ENV": "production",
        "SECRET_KEY": "bench",
        "SITE_URL": "http://127.0.0.1",
        "DATABASE_URL": f"sqlite:///{database}",
        "INSTANCE_PATH": str(workdir / "instance"),
        "SOCKETIO_ASYNC_MODE": "gevent" if worker == "gevent" else "threading",
    }
    command = [str(Path(sys.executable).parent / "gunicorn"), "-w", "2", *WORKERS[worker]]
    command += ["--bind", f"127.0.0.1:{port}", "--log-level", "warning", "wsgi:app"]
    log_path = workdir / f"gunicorn-{worker}.log"
    with open(log_path, "w+") as server_log:
        process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=server_log, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + timeout
            while not _answers(port):
                if process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"gunicorn -k {worker} did not start:\n{log_path.read_text()[-3000:]}")
                time.sleep(0.3)
            yield "127.0.0.1", port, process.pid
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _answers(port):
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/threads/", timeout=2) as response:
            return response.status == 200
    except OSError:
        return False


def _request(host, port, method, path, body=None, cookie=None):
    headers = {"User-Agent": USER_AGENT}
    if cookie:
        headers["Cookie"] = cookie
    if body is not None:
        headers["Content-Type"] = "application/x-www-form-urlencoded"
    connection = HTTPConnection(host, port, timeout=10)
    try:
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        return response.status, response.getheader("Set-Cookie", ""), response.read().decode()
    finally:
        connection.close()


def session_cookie(host, port, email):
    """Sign in over HTTP as a browser would (CSRF token included) and return the Cookie header to send."""
    _status, set_cookie, page = _request(host, port, "GET", "/login")
    token = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)
    cookie = f"session={SimpleCookie(set_cookie)['session'].value}"
    form = urllib.parse.urlencode({"email": email, "password": PASSWORD, "csrf_token": token})
    status, set_cookie, _page = _request(host, port, "POST", "/login", form, cookie)
    if status != 302:
        raise RuntimeError(f"signing in to the server answered {status}")
    cookie = f"session={SimpleCookie(set_cookie)['session'].value}"
    status, _set_cookie, page = _request(host, port, "GET", f"/threads/{TARGET_THREAD_ID}", cookie=cookie)
    if status != 200 or "data-user=" not in page:
        raise RuntimeError("the session cookie does not sign in")
    return cookie


WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk(url, seconds, cookie=None, connections=8):
    """Run wrk against `url` and return its report."""
    command = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--timeout", "10s", "--latency"]
    command += ["-H", f"User-Agent: {USER_AGENT}", *(["-H", f"Cookie: {cookie}"] if cookie else []), url]
    return subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True).stdout


def wrk_figures(report, seconds, connections=8):
    """Requests per second, p50/p99 latency in ms and any errors, from a wrk --latency report."""

    def find(pattern):
        match = re.search(pattern, report, re.MULTILINE)
        if match is None:
            raise RuntimeError(f"unexpected wrk report (no {pattern!r}):\n{report}")
        return match.groups()

    def latency(share):
        value, unit = find(rf"^\s+{share}%\s+([\d.]+)(us|ms|s)\s*$")
        return round(float(value) * WRK_UNITS[unit], 2)

    errors = re.search(r"Socket errors: (.*)", report)
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", report)
    return {
        "rps": float(find(r"Requests/sec:\s+([\d.]+)")[0]),
        "p50_ms": latency(50),
        "p99_ms": latency(99),
        "requests": int(find(r"(\d+) requests in")[0]),
        "seconds": seconds,
        "connections": connections,
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1) if errors else None,
    }


def server_cpu_seconds(pid):
    """CPU seconds used so far by the gunicorn master `pid` and its workers (Linux /proc)."""
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    ticks = 0
    for process in [pid, *map(int, children)]:
        fields = Path(f"/proc/{process}/stat").read_text().rsplit(")", 1)[1].split()
        ticks += int(fields[11]) + int(fields[12])  # utime and stime
    return ticks / os.sysconf("SC_CLK_TCK")


def load_test(url, seconds, cookie, pid):
    """wrk's figures, plus the server's CPU time per request: what the page costs, however busy the machine is."""
    before = server_cpu_seconds(pid)
    figures = wrk_figures(wrk(url, seconds, cookie), seconds)
    cpu_ms = (server_cpu_seconds(pid) - before) * 1000 / max(1, figures["requests"])
    return {**figures, "server_cpu_ms_per_request": round(cpu_ms, 1), "loadavg_1min": round(os.getloadavg()[0], 2)}


def measure_throughput(database, workdir, sizes):
    if shutil.which("wrk") is None:
        raise RuntimeError("wrk is not installed: apt-get install -y wrk")
    results = {}
    for worker in WORKERS:
        try:
            with gunicorn(worker, database.path, workdir) as (host, port, pid):
                url = f"http://{host}:{port}/threads/{TARGET_THREAD_ID}"
                signed_in = session_cookie(host, port, database.viewer_email)
                wrk(url, max(2, sizes.seconds // 5))  # warm-up: imports, caches, connections
                results[worker] = {
                    who: load_test(url, sizes.seconds, cookie, pid)
                    for who, cookie in (("visitor", None), ("signed_in", signed_in))
                }
        except (OSError, RuntimeError, subprocess.SubprocessError) as error:
            results[worker] = {"error": str(error)}
        log(f"throughput: {worker} {results[worker]}")
    return {
        "page": f"/threads/{TARGET_THREAD_ID} ({TARGET_REPLIES} replies of about 100 words)",
        "workers": 2,
        "load_generator": "wrk -t2 -c8 --latency, keep-alive, on the same machine",
        "reference_rps": REFERENCE_RPS,
        **results,
    }


# --- The run. ----------------------------------------------------------------------------------------------------


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller data and shorter runs")
    parser.add_argument("--profile", action="store_true", help="print a cProfile of the slowest page to stderr")
    args = parser.parse_args()
    sizes = QUICK if args.quick else FULL
    results = {"mode": "quick" if args.quick else "full", "machine": machine(), "sizes": asdict(sizes)}
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-threads-") as tmp:
        workdir = Path(tmp)
        results["queries"], results["queries_summary"] = measure_queries(workdir)
        database = build_scale_database(workdir / "scale.db", workdir, sizes)
        results["scale"] = measure_scale(database, workdir, sizes, args.profile)
        results["throughput"] = measure_throughput(database, workdir, sizes)
    results["machine"]["loadavg_at_end"] = [round(x, 2) for x in os.getloadavg()]
    results["total_seconds"] = round(time.perf_counter() - started, 1)
    print(json.dumps(results, ensure_ascii=False))


if __name__ == "__main__":
    main()
