"""Markdown that costs the renderer most still renders, sanitised, and never answers a 500 (ASVS 5.0 V1.3, V2.4.1).

Times are measured by bench/markdown.py, not here: these tests check behaviour only.
"""

import re

import pytest

from community.core.markdown import render
from tests.security.markdown_corpus import corpus
from tests.test_markdown import outside_allowlist, problems, text_of

CORPUS = corpus()


@pytest.mark.parametrize(("name", "text"), CORPUS, ids=[name for name, _text in CORPUS])
def test_pathological_markdown_renders_sanitised(name, text):
    html = render(text)
    assert problems(html) == []
    assert outside_allowlist(html) == []
    assert "\ue000" not in html and "\ue001" not in html


def test_nested_definitions_show_as_the_text_written():
    text = "a\n: b\n" * 600
    html = render(text)
    assert text_of(html).count("b") == 600
    assert text_of(html).count(": b") == 599, "all but the first definition are literal text"
    assert render("Term\n: one\n: two\n\nOther\n: three") == (
        "<dl>\n<dt>Term</dt>\n<dd>one</dd>\n<dd>two</dd>\n<dt>Other</dt>\n<dd>three</dd>\n</dl>"
    )


def test_many_headings_render_as_headings_and_code_stays_code():
    text = "```\n# not a heading\n```\n" + "# a\nb\n" * 100 + "\nc\n===\n"
    html = render(text)
    assert html.count("<h1>a</h1>") == 100 and "<h1>c</h1>" in html
    assert re.search(r"<pre><code># not a heading\n</code></pre>", html)


def test_unclosed_tags_are_literal_text_and_allowed_tags_are_kept():
    assert text_of(render("<a " * 1000)).count("<a") == 1000
    assert render("A <b>bold</b> and <em>em</em>.") == "<p>A <b>bold</b> and <em>em</em>.</p>"


@pytest.mark.parametrize("text", ["<a " * 16000, "a\n: b\n" * 600], ids=["unclosed-tags", "nested-definitions"])
def test_the_preview_answers_pathological_text(client, auth, make, text):
    auth.login(make.user())
    response = client.post("/api/v1/preview", json={"body": text})
    assert response.status_code == 200
    assert problems(response.get_json()["html"]) == []


def test_the_preview_says_when_a_text_is_shown_as_written(client, auth, make):
    auth.login(make.user())
    heavy = "*a* " * 2_100  # 4,200 pieces of markup
    response = client.post("/api/v1/preview", json={"body": heavy}, headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 200
    data = response.get_json()
    assert data["html"].startswith("<p>*a* *a*") and "<em>" not in data["html"]
    assert "sem formatação" in data["note"]
    ordinary = client.post("/api/v1/preview", json={"body": "*a* " * 500}).get_json()
    assert ordinary["html"].count("<em>a</em>") == 500 and "note" not in ordinary
