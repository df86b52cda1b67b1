"""App-wide commands: `flask seed-demo` fills an empty site with the cohort's demo data; `flask check-orphans` lists
rows that name a row that is gone."""

from datetime import datetime, time, timedelta

import click
import sqlalchemy as sa
from flask import Blueprint

from community.auth import services as accounts
from community.cities.models import City
from community.cities.services import city_by_slug, unique_slug
from community.core.markdown import render
from community.core.models import orphan_rows, utcnow
from community.core.permissions import Role
from community.extensions import db
from community.framework import loader as framework
from community.framework.models import Criterion
from community.library import services as library
from community.library.demo import DEMO_CASES, case_fields
from community.library.models import CaseStudy
from community.live import registration as seats
from community.live import scheduling
from community.live.models import LiveSession, SessionEvent
from community.live.room import actions as room_actions
from community.live.room import chat as room_chat
from community.live.room import presence as room_presence
from community.mentorship.models import Mentorship
from community.threads import services as threads
from community.threads.models import Thread

bp = Blueprint("commands", __name__, cli_group=None)

DEMO_PASSWORD = "comunidade-demo"  # noqa: S105 (published in the README for the demo accounts)

# Populations are rounded census figures, good enough for a demonstration.
DEMO_CITIES = [
    ("Mogi das Cruzes", "São Paulo", "BR", 450_000),
    ("Fortaleza", "Ceará", "BR", 2_430_000),
    ("Recife", "Pernambuco", "BR", 1_490_000),
    ("Novo Hamburgo", "Rio Grande do Sul", "BR", 228_000),
    ("Niterói", "Rio de Janeiro", "BR", 482_000),
    ("Córdoba", "Córdoba", "AR", 1_505_000),
    ("Medellín", "Antioquia", "CO", 2_430_000),
    ("Mérida", "Yucatán", "MX", 995_000),
]

# (e-mail, name, role, city slug, locale, time zone)
DEMO_PEOPLE = [
    ("admin@comunidade.example.org", "Equipe Comunidade", Role.ADMIN, None, "pt_BR", "America/Sao_Paulo"),
    ("mentora@comunidade.example.org", "Helena Duarte", Role.MENTOR, None, "pt_BR", "America/Sao_Paulo"),
    ("ana@mogi.example.org", "Ana Souza", Role.PARTICIPANT, "mogi-das-cruzes", "pt_BR", "America/Sao_Paulo"),
    ("carlos@fortaleza.example.org", "Carlos Lima", Role.PARTICIPANT, "fortaleza", "pt_BR", "America/Fortaleza"),
    ("beatriz@recife.example.org", "Beatriz Rocha", Role.PARTICIPANT, "recife", "pt_BR", "America/Recife"),
    ("pedro@nh.example.org", "Pedro Schmitt", Role.PARTICIPANT, "novo-hamburgo", "pt_BR", "America/Sao_Paulo"),
    ("lucia@cordoba.example.org", "Lucía Fernández", Role.PARTICIPANT, "cordoba", "es", "America/Argentina/Cordoba"),
    ("andres@medellin.example.org", "Andrés Gómez", Role.PARTICIPANT, "medellin", "es", "America/Bogota"),
    ("jorge@comunidade.example.org", "Jorge Ramírez", Role.MENTOR, None, "es", "America/Mexico_City"),
]  # fmt: skip

# Mentor profiles: (e-mail, bio, strengths, languages, capacity).
DEMO_MENTORS = [
    (
        "mentora@comunidade.example.org",
        "Mentora regional do programa. Trabalhou com **inventários de dados** e rotinas de desempenho em "
        "prefeituras de médio porte.",
        "DM1 DM2 DM3 DM4 OD1 OD3 PA1 PA2 PA3 PA5",
        ["pt_BR", "es"],
        6,
    ),
    (
        "jorge@comunidade.example.org",
        "Mentor de **evaluaciones** y contratación basada en resultados; acompañó a gobiernos locales en México "
        "y Colombia.",
        "EVAL1 EVAL2 EVAL3 EVAL4 LC6 RDC1 RDC2 RDC3 BF1 BF2",
        ["es", "en"],
        3,
    ),
]


def seed_cities():
    for name, state, country, population in DEMO_CITIES:
        if db.session.scalar(sa.select(City).where(City.name == name, City.country == country)) is None:
            db.session.add(City(name=name, slug=unique_slug(name), state=state, country=country, population=population))
    db.session.flush()


def seed_people():
    for email, name, role, city_slug, locale, timezone in DEMO_PEOPLE:
        if accounts.user_by_email(email) is None:
            city = city_by_slug(city_slug) if city_slug else None
            accounts.create_user(
                email, name, DEMO_PASSWORD, role=role, city=city, locale=locale, timezone=timezone, confirm_city=True
            )
    db.session.flush()


# Example questions, written for the demo: (asker, title, body, area, criteria, tags, answers by (who, text)).
DEMO_THREADS = [
    (
        "beatriz@recife.example.org",
        "Como manter o inventário de dados atualizado depois da primeira versão?",
        "Fizemos o inventário das bases da prefeitura no ano passado, mas em seis meses metade das linhas "
        "já estava desatualizada. Quem cuida da atualização nas suas cidades? Existe uma rotina?",
        "DM",
        ["DM1", "DM2"],
        ["inventario", "governanca"],
        [
            (
                "carlos@fortaleza.example.org",
                "Em Fortaleza cada secretaria tem um **responsável pelos dados** nomeado em portaria. "
                "A cada trimestre o comitê de dados cobra a revisão das linhas daquela secretaria.",
            ),
            (
                "mentora@comunidade.example.org",
                "O que costuma funcionar: dono nomeado por base, data da última revisão visível na planilha "
                "e uma pauta fixa no comitê. Vale anexar a portaria como evidência do DM1.",
            ),
        ],
    ),
    (
        "andres@medellin.example.org",
        "¿Cómo organizan las reuniones de seguimiento de metas con las secretarías?",
        "Queremos empezar reuniones mensuales de desempeño con el alcalde. ¿Qué indicadores llevan y "
        "cuánto dura cada reunión?",
        "PA",
        ["PA2"],
        ["desempeno", "reuniones"],
        [
            (
                "ana@mogi.example.org",
                "Em Mogi das Cruzes começamos com **cinco indicadores** por secretaria e reuniões de uma hora. "
                "O segredo foi mandar o painel dois dias antes.",
            ),
        ],
    ),
    (
        "pedro@nh.example.org",
        "Portal de dados abertos: CKAN ou planilhas publicadas?",
        "Novo Hamburgo vai publicar os primeiros conjuntos de dados. Vale a pena subir um CKAN agora ou "
        "começar com planilhas em uma página da prefeitura?",
        "OD",
        ["OD3"],
        ["dados-abertos"],
        [],
    ),
]


def seed_threads():
    """The example questions and answers, in the demo people's own languages."""
    if db.session.scalar(sa.select(Thread.id).limit(1)) is not None:
        return
    for asker, title, body, area, criteria, tags, answers in DEMO_THREADS:
        thread = threads.create_thread(accounts.user_by_email(asker), title, body, area, criteria, tags)
        for author, text in answers:
            threads.add_post(thread, accounts.user_by_email(author), text)


# Live sessions by the regional mentor: (title, agenda, area codes, criteria, days from today, hour, weeks repeated).
DEMO_SESSIONS = [
    (
        "Plantão de dúvidas: inventário e governança de dados",
        "Uma hora para tirar dúvidas sobre **DM1 e DM2**: como montar o inventário, quem é dono de cada base "
        "e que evidências anexar.\n\n- 10 min: o que a certificação pede\n- 40 min: perguntas das cidades\n"
        "- 10 min: próximos passos",
        ["DM"],
        ["DM1", "DM2"],
        2,
        10,
        3,
    ),
    (
        "Reuniões de desempenho que funcionam",
        "Fortaleza e Mogi das Cruzes contam como organizam as reuniões mensais de metas (PA2), com uma "
        "enquete sobre o que trava as suas.",
        ["PA"],
        ["PA2"],
        5,
        15,
        0,
    ),
]


def seed_sessions():
    """Upcoming sessions by the mentor, a few people registered, times in Brasília; and a past one with its record."""
    if db.session.scalar(sa.select(LiveSession.id).limit(1)) is not None:
        return
    host = accounts.user_by_email("mentora@comunidade.example.org")
    zone = "America/Sao_Paulo"
    today = scheduling.utc_to_local(utcnow(), zone).date()
    for title, agenda, areas, criteria, days, hour, weeks in DEMO_SESSIONS:
        starts_at = scheduling.local_to_utc(datetime.combine(today + timedelta(days=days), time(hour)), zone)
        fields = scheduling.clean_session_input(
            {
                "title": title,
                "agenda": agenda,
                "timezone": zone,
                "starts_at": starts_at,
                "ends_at": starts_at + timedelta(hours=1),
                "capacity": 50,
                "language": "pt_BR",
                "practice_areas": areas,
                "criteria": criteria,
                "video_url": "https://meet.example.org/comunidade-plantao",
            },
            creating=True,
        )
        first = scheduling.schedule(host, fields, weeks=weeks)[0]
        for email in ("ana@mogi.example.org", "beatriz@recife.example.org", "carlos@fortaleza.example.org"):
            seats.register(first, accounts.user_by_email(email))
    seed_past_session(host, zone, today)


def seed_past_session(host, zone, today):
    """The cohort's opening session a week ago, as its room recorded it: who came, the chat, a question, a poll."""
    starts_at = scheduling.local_to_utc(datetime.combine(today - timedelta(days=7), time(10)), zone)
    fields = scheduling.clean_session_input(
        {
            "title": "Abertura da coorte: como funciona a certificação",
            "agenda": "Boas-vindas, o calendário da coorte e como preencher a autoavaliação.",
            "timezone": zone,
            "starts_at": starts_at,
            "ends_at": starts_at + timedelta(hours=1),
            "capacity": 100,
            "language": "pt_BR",
            "practice_areas": ["LC"],
            "criteria": [],
            "video_url": "https://meet.example.org/comunidade-abertura",
        },
        creating=False,
    )
    session = scheduling.schedule(host, fields)[0]
    people = [accounts.user_by_email(email) for email in ("ana@mogi.example.org", "carlos@fortaleza.example.org")]
    for person in people:
        seats.register(session, person)
    for n, person in enumerate([host, *people]):
        room_presence.enter(session, person, f"demo-{session.id}-{n}")
    room_actions.start(session, host)
    room_chat.chat(session, host, "Bom dia, cidades! Sejam bem-vindas à coorte.")
    room_chat.chat(session, people[0], "Bom dia! Mogi das Cruzes presente.")
    _event, question = room_actions.ask(session, people[1], "Qual é o prazo para enviar as evidências?")
    room_actions.upvote(session, people[0], question.id)
    room_actions.mark_answered(session, host, question.id)
    _event, poll = room_actions.open_poll(
        session, host, "Por onde a sua cidade vai começar?", ["Dados", "Desempenho", "Contratos"]
    )
    room_actions.vote(session, people[0], poll.id, [1])
    room_actions.vote(session, people[1], poll.id, [2])
    room_actions.close_poll(session, host, poll.id)
    room_actions.end(session, host)
    for sid in range(3):
        room_presence.leave(f"demo-{session.id}-{sid}")
    # The record reads as if it happened a week ago.
    shift = utcnow() - (starts_at + timedelta(minutes=5))
    for event in db.session.scalars(sa.select(SessionEvent).where(SessionEvent.session_id == session.id)):
        event.created_at -= shift
    session.started_at, session.finished_at = starts_at, starts_at + timedelta(hours=1)
    db.session.commit()


# Each demo city's self-assessment on the standard: (city slug, member e-mail, criteria in place, of those accepted
# by the mentor, in progress, submitted and waiting, sent back with a comment). Each criterion in place has the
# checklist items its rule needs marked met, and a link to the city's own site as evidence of them, dated.
DEMO_ASSESSMENTS = [
    (
        "mogi-das-cruzes",
        "ana@mogi.example.org",
        "DM1 DM2 DM3 DM4 DM5 LC1 LC3 LC4 LC5 OD1 OD2 OD3 PA1 PA2 PA3 PA5 BF1 BF2 RDC1 RDC2 CI1 DM8 EVAL1 EVAL2",
        "DM1 DM2 DM3 LC1 LC5 OD1 PA1 PA2 PA5 BF1 RDC1 CI1",
        "DM6 LC2 OD4 PA4 RDC3 EVAL3",
        "DM4 LC4 OD3",
        "PA3",
    ),
    (
        "fortaleza",
        "carlos@fortaleza.example.org",
        "DM1 DM2 DM3 DM4 DM5 DM6 DM8 LC1 LC2 LC3 LC4 LC5 LC7 OD1 OD2 OD3 OD4 PA1 PA2 PA3 PA4 PA5 BF1 BF2 "
        "RDC1 RDC2 RDC3 CI1 CI3 EVAL1 EVAL2",
        "DM1 DM2 DM3 DM4 DM5 LC1 LC3 LC4 LC5 OD1 OD2 OD3 PA1 PA2 PA3 PA5 BF1 RDC1 CI1 EVAL1",
        "DM7 RDC4 EVAL3",
        "DM6 LC7",
        "",
    ),
    (
        "recife",
        "beatriz@recife.example.org",
        "DM1 DM2 DM3 LC1 LC5 OD1 OD3 PA1 PA2 BF1 RDC1 CI1 DM8 EVAL1 EVAL2",
        "DM2 OD1 PA1",
        "DM4 DM5 LC3 PA3 OD2",
        "DM1 DM3",
        "",
    ),
    (
        "novo-hamburgo",
        "pedro@nh.example.org",
        "DM2 LC1 OD1 OD3 PA1 BF1 CI1 RDC1",
        "OD1",
        "DM1 OD2 PA2",
        "OD3",
        "",
    ),
    (
        "cordoba",
        "lucia@cordoba.example.org",
        "DM1 DM2 LC1 LC5 OD1 OD2 OD3 PA1 PA2 BF1 BF2 EVAL1",
        "DM2 OD1 OD3",
        "DM3 PA3 RDC1",
        "PA2",
        "",
    ),
]
# Recife's inventory was last published long ago: its evidence is stale for the deadline, as the dashboard shows.
DEMO_OLD_EVIDENCE = {("recife", "DM2"): 800}
DEMO_NOTES = {
    "BR": "Responsável nomeado em portaria; revisamos a cada trimestre no comitê de dados.",
    "AR": "Responsable designado por resolución; lo revisamos cada trimestre en el comité de datos.",
}
DEMO_CHANGES = {"BR": "Falta a ata da última reunião com o prefeito: anexe o PDF e reenvie."}
DEMO_ITEM_CHANGES = {"BR": "A ata publicada é de março; anexe a mais recente."}


def seed_assessments():
    """The regional mentor accompanies five cities whose assessments are under way, at different levels."""
    from community.assessment import services as assessment
    from community.assessment.models import Evidence, ItemState, Review
    from community.core.markdown import render
    from community.mentorship import services as mentorship

    admin, mentor = accounts.user_by_email(DEMO_PEOPLE[0][0]), accounts.user_by_email(DEMO_PEOPLE[1][0])
    now = utcnow()
    for slug, email, in_place, accepted, in_progress, waiting, sent_back in DEMO_ASSESSMENTS:
        city, member = city_by_slug(slug), accounts.user_by_email(email)
        if assessment.find_assessment(city) is not None:
            continue  # loaded before, perhaps changed since: left as it is
        if not mentorship.is_mentor_of(mentor, city.id):
            mentorship.assign(admin, mentor, city)
        answers = {answer.criterion.code: answer for answer in assessment.answers(assessment.open_assessment(city))}
        notes = DEMO_NOTES.get(city.country, DEMO_NOTES["AR"])
        for code in in_place.split() + in_progress.split():
            answer = answers[code]
            answer.status = "in_place" if code in in_place.split() else "in_progress"
            answer.notes, answer.notes_html = notes, render(notes)
            answer.updated_at, answer.updated_by_id, answer.version = now, member.id, 1
            if answer.status == "in_place":
                # Items with a freshness rule first, so the dates of the demo's evidence matter.
                checklist = sorted(answer.criterion.checklist, key=lambda item: item.fresh_months is None)
                items = checklist[: answer.criterion.required]
                answer.item_states = [ItemState(item=item, met=True, updated_at=now) for item in items]
                url = f"https://www.{slug.replace('-', '')}.example.gov/transparencia/{code.lower()}"
                age = DEMO_OLD_EVIDENCE.get((slug, code), 40)
                db.session.add(
                    Evidence(
                        answer=answer,
                        url=url,
                        description=code,
                        added_by_id=member.id,
                        as_of=now.date() - timedelta(days=age),
                        items=items,
                    )
                )
        for code in accepted.split() + waiting.split() + sent_back.split():
            answers[code].review_state, answers[code].submitted_at = "submitted", now
            answers[code].submitted_by_id = member.id
        for code in accepted.split():
            answers[code].review_state = "accepted"
            db.session.add(Review(answer=answers[code], reviewer_id=mentor.id, verdict="accepted"))
        for code in sent_back.split():
            comment = DEMO_CHANGES.get(city.country, DEMO_CHANGES["BR"])
            answers[code].review_state = "changes_requested"
            for state in answers[code].item_states[-1:]:
                state.review, state.review_comment = "needs_work", DEMO_ITEM_CHANGES.get(city.country, comment)
                state.reviewed_at, state.reviewer_id = now, mentor.id
            db.session.add(
                Review(
                    answer=answers[code],
                    reviewer_id=mentor.id,
                    verdict="changes_requested",
                    comment=comment,
                    comment_html=render(comment),
                )
            )
    db.session.commit()


def seed_mentoring():
    """Mentor profiles; inside Mogi das Cruzes's mentorship, goals, a meeting with next steps and messages; and
    Medellín's request waiting for the second mentor's answer."""
    from community.mentorship import services as mentoring
    from community.mentorship.models import (
        MentorshipEvent,
        MentorshipGoal,
        MentorshipMeeting,
        MentorshipMessage,
        NextStep,
    )

    for email, bio, strengths, languages, capacity in DEMO_MENTORS:
        mentor = accounts.user_by_email(email)
        if mentoring.profile_of(mentor.id) is None:
            mentoring.save_profile(
                mentor,
                {
                    "bio": bio,
                    "strengths": strengths.split(),
                    "languages": languages,
                    "timezone": mentor.timezone,
                    "capacity": capacity,
                    "accepting": True,
                },
            )
    helena, ana = accounts.user_by_email(DEMO_PEOPLE[1][0]), accounts.user_by_email("ana@mogi.example.org")
    mogi = city_by_slug("mogi-das-cruzes")
    mentorship = db.session.scalar(mentoring.active_query(city_id=mogi.id, mentor_id=helena.id))
    if mentorship is not None and not mentorship.goals:
        today = utcnow().date()
        criteria = {
            c.code: c for c in db.session.scalars(sa.select(Criterion).where(Criterion.code.in_(["PA3", "DM5"])))
        }
        mentorship.goals = [
            MentorshipGoal(criterion=criteria["PA3"], title="Ata das reuniões de desempenho publicada",
                           target_date=today + timedelta(days=14), progress=60, created_by_id=helena.id),
            MentorshipGoal(criterion=criteria["DM5"], title="Política de privacidade aprovada pelo comitê",
                           target_date=today + timedelta(days=30), progress=25, created_by_id=ana.id),
        ]  # fmt: skip
        notes = "Revisamos o painel de metas. A **ata** da última reunião com o prefeito ainda falta para o PA3."
        mentorship.meetings = [
            MentorshipMeeting(
                held_on=today - timedelta(days=7),
                notes=notes,
                notes_html=render(notes),
                created_by_id=helena.id,
                steps=[
                    NextStep(text="Anexar a ata da reunião de outubro", owner_id=ana.id,
                             due_on=today - timedelta(days=2)),
                    NextStep(text="Comentar a minuta da política de privacidade", owner_id=helena.id,
                             due_on=today + timedelta(days=5)),
                ],
            ),
            MentorshipMeeting(held_on=today + timedelta(days=7), notes="", notes_html="", created_by_id=ana.id),
        ]  # fmt: skip
        text = "Helena, subimos o painel novo. Você consegue olhar antes da reunião?"
        mentorship.messages = [MentorshipMessage(author_id=ana.id, body=text, body_html=render(text))]
    medellin, jorge = city_by_slug("medellin"), accounts.user_by_email("jorge@comunidade.example.org")
    andres = accounts.user_by_email("andres@medellin.example.org")
    if mentoring.is_member(andres, medellin.id) and not db.session.scalar(
        sa.select(Mentorship.id).where(Mentorship.city_id == medellin.id).limit(1)
    ):
        # Stored as the request form would store it, without the notice: e-mail needs SITE_URL, which a fresh
        # production site may not have set yet when it loads the demo.
        message = "Queremos diseñar nuestra primera evaluación de impacto (EVAL2)."
        request = Mentorship(mentor_id=jorge.id, city_id=medellin.id, message=message, requested_by_id=andres.id)
        request.events = [MentorshipEvent(actor_id=andres.id, action="requested", message=message)]
        db.session.add(request)
    db.session.commit()


def seed_cases():
    """The example case studies: written by the programme's team (so marked as examples, not as the cities' own
    reports) and published by the regional mentor."""
    if db.session.scalar(sa.select(CaseStudy.id).limit(1)) is not None:
        return
    mentor = accounts.user_by_email("mentora@comunidade.example.org")
    team = accounts.user_by_email("admin@comunidade.example.org")
    for row in DEMO_CASES:
        case = library.create_case(team, library.clean_case_input(case_fields(row)), is_example=True)
        library.publish(case, mentor)


@bp.cli.command("seed-demo")
@click.option("--if-empty", is_flag=True, help="Do nothing when the site already has cities (first run only).")
def seed_demo(if_empty):
    """Load the framework and the demo cohort: cities, a regional mentor, an admin, participants and questions."""
    if if_empty and db.session.scalar(sa.select(City.id).limit(1)) is not None:
        click.echo("The site already has data; demo data not loaded.")
        return
    framework.load(framework.read_file(framework.SHIPPED_FILE))
    seed_cities()
    seed_people()
    db.session.commit()
    seed_threads()
    seed_sessions()
    seed_assessments()
    seed_mentoring()
    seed_cases()
    click.echo(
        f"Demo data loaded: {len(DEMO_CITIES)} cities, {len(DEMO_PEOPLE)} people, {len(DEMO_THREADS)} questions, "
        f"{len(DEMO_SESSIONS) + 1} live sessions, {len(DEMO_ASSESSMENTS)} self-assessments, "
        f"{len(DEMO_CASES)} example case studies."
    )
    click.echo(f"Every demo account's password is {DEMO_PASSWORD!r}; e.g. sign in as {DEMO_PEOPLE[1][0]}.")


@bp.cli.command("check-orphans")
def check_orphans():
    """List rows whose foreign key names a row that is gone (SQLite from before it enforced them); exit 1 if any."""
    with db.engine.connect() as connection:
        orphans = orphan_rows(connection)
    if not orphans:
        click.echo("No row names a row that is gone.")
        return
    for table, rowid, parent in orphans:
        click.echo(f"{table} rowid {rowid}: names a missing {parent}")
    click.echo(f"{len(orphans)} row(s) name a row that is gone.")
    raise SystemExit(1)
