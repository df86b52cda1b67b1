"""A session's record written out as Markdown minutes, in the reader's language and time zone."""

from flask import url_for
from flask_babel import format_datetime, format_time, get_timezone, ngettext
from flask_babel import gettext as _

from community.core.time import zone_label


def _one_line(text):
    return " ".join(text.split())


def markdown(live, record):
    zone = zone_label(str(get_timezone()))
    lines = [
        f"# {_one_line(live.title)}",
        "",
        _("Hosted by %(name)s", name=live.host.display_name),
        "",
        _(
            "From %(start)s to %(end)s (%(zone)s)",
            start=format_datetime(live.starts_at, "medium"),
            end=format_datetime(live.ends_at, "medium"),
            zone=zone,
        ),
        "",
        url_for("live.show", session_id=live.id, _external=True),
        "",
    ]
    if live.agenda:
        lines += [f"## {_('Agenda')}", "", live.agenda.strip(), ""]

    lines += [f"## {_('Attendance')} ({len(record['attendance'])})", ""]
    for attendance in record["attendance"]:
        user = attendance.user
        city = f", {user.confirmed_city.name}" if user.confirmed_city else ""
        lines.append(f"- {_one_line(user.display_name)}{city}")
    lines.append("")

    lines += [f"## {_('Questions')} ({len(record['questions'])})", ""]
    for item in record["questions"]:
        question = item["question"]
        who = item["author"].display_name if item["author"] else _("Anonymous")
        mark = _("answered") if question.answered else _("not answered")
        votes = ngettext("%(num)d vote", "%(num)d votes", question.votes)
        lines.append(f"- {_one_line(question.text)} ({_one_line(who)}; {votes}; {mark})")
    lines.append("")

    lines += [f"## {_('Polls')} ({len(record['polls'])})", ""]
    for item in record["polls"]:
        lines.append(f"### {_one_line(item['poll'].question)}")
        lines.append("")
        lines.append(ngettext("%(num)d vote", "%(num)d votes", item["votes"]))
        lines.append("")
        for result in item["results"]:
            lines.append(f"- {_one_line(result['text'])}: {result['count']} ({result['share']}%)")
        lines.append("")

    lines += [f"## {_('Chat')} ({len(record['chat'])})", ""]
    for event in record["chat"]:
        name = event.actor.display_name if event.actor else _("Someone who left")
        text = event.payload.get("text", "").replace("\n", "\n  ")
        lines.append(f"- {format_time(event.created_at, 'short')} **{_one_line(name)}**: {text}")
    lines.append("")
    return "\n".join(lines)
