"""User Markdown: every payload in tests/xss_corpus.txt renders to inert HTML, and ordinary Markdown still works.

The rendered HTML is read back with html.parser, the way a browser would see its elements, attributes and text,
rather than searched with regular expressions.
"""

import codecs
import re
import unicodedata
from html.parser import HTMLParser
from pathlib import Path

import pytest

from community.core.markdown import ALLOWED_ATTRIBUTES, ALLOWED_TAGS, MARKUP, MARKUP_MAX, render

CORPUS = Path(__file__).with_name("xss_corpus.txt")

DANGEROUS_TAGS = {"script", "iframe", "object", "embed", "style", "form", "base", "meta", "link", "svg", "math"}
URL_ATTRIBUTES = {"href", "src"}
SAFE_URL_PREFIXES = ("http:", "https:", "mailto:", "/", "#")
SCHEME = re.compile(r"^[a-z][a-z0-9+.\-]*:")


def load_corpus():
    """(line number, payload) for each payload; a line starting with "esc:" is decoded with Python escapes."""
    payloads = []
    for number, line in enumerate(CORPUS.read_text(encoding="utf-8").split("\n"), start=1):
        if not line.strip() or line.startswith("#"):
            continue
        if line.startswith("esc:"):
            assert line.isascii(), f"line {number}: write non-ASCII characters in an esc: line as \\u escapes"
            line = codecs.decode(line.removeprefix("esc:"), "unicode_escape")
        payloads.append((number, line))
    return payloads


PAYLOADS = load_corpus()


class Collector(HTMLParser):
    """Every element with its attributes, and the text, of a piece of HTML."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.elements = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_startendtag(self, tag, attrs):
        self.elements.append((tag, attrs))

    def handle_data(self, data):
        self.text.append(data)


def parse(html):
    collector = Collector()
    collector.feed(html)
    collector.close()
    return collector


def text_of(html):
    return "".join(parse(html).text)


def normalise_url(value):
    """The URL as a browser would read its scheme, made stricter.

    html.parser has already unescaped character references once, as a browser does. Control and format characters
    (tab, newline, NUL, zero-width space...) are dropped wherever they are, which browsers do for tab, CR and LF;
    surrounding whitespace is stripped. A space inside the value is kept: browsers keep it, and it ends the scheme,
    so "jav ascript:x" is an inert relative URL.
    """
    value = "".join(char for char in value if unicodedata.category(char) not in {"Cc", "Cf"})
    return value.strip().lower()


def problems(html):
    """What in `html` could run script or restyle the page; empty when it is safe."""
    found = []
    for tag, attrs in parse(html).elements:
        if tag in DANGEROUS_TAGS:
            found.append(f"<{tag}> element")
        for name, value in attrs:
            if name.startswith("on"):
                found.append(f"{name} attribute on <{tag}>")
            if name == "style":
                found.append(f"style attribute on <{tag}>")
            if name in URL_ATTRIBUTES and value is not None:
                url = normalise_url(value)
                if not url.startswith(SAFE_URL_PREFIXES) and SCHEME.match(url):
                    found.append(f"{name}={value!r} on <{tag}>")
    return found


def outside_allowlist(html):
    """Elements and attributes the sanitiser should never have let through."""
    found = []
    for tag, attrs in parse(html).elements:
        if tag not in ALLOWED_TAGS:
            found.append(f"<{tag}>")
        allowed = ALLOWED_ATTRIBUTES.get(tag, set()) | ({"rel"} if tag == "a" else set())
        for name, value in attrs:
            if name == "class":
                # The only class is the server's own mention mark, which user text alone never gets.
                found.extend(f"class {word!r} on <{tag}>" for word in (value or "").split())
            elif name not in allowed:
                found.append(f"{name} on <{tag}>")
    return found


def test_the_corpus_is_big_and_has_no_repeats():
    payloads = [payload for _, payload in PAYLOADS]
    assert len(payloads) >= 80
    assert len(set(payloads)) == len(payloads)


@pytest.mark.parametrize(("number", "payload"), PAYLOADS, ids=[f"line{number}" for number, _ in PAYLOADS])
def test_payload_renders_inert(number, payload):
    html = render(payload)
    assert problems(html) == [], f"line {number}: {payload!r} rendered as {html!r}"
    assert outside_allowlist(html) == [], f"line {number}: {payload!r} rendered as {html!r}"
    assert "<script" not in html.lower()


@pytest.mark.parametrize(("number", "payload"), PAYLOADS, ids=[f"line{number}" for number, _ in PAYLOADS])
def test_rendering_the_output_again_is_still_inert(number, payload):
    html = render(render(payload))
    assert problems(html) == [], f"line {number}: {payload!r} rendered twice as {html!r}"
    assert outside_allowlist(html) == []


@pytest.mark.parametrize(
    ("source", "literal"),
    [
        ("{{7*7}}", "{{7*7}}"),
        ("${7*7}", "${7*7}"),
        ("{% raw %}{{ config }}{% endraw %}", "{% raw %}{{ config }}{% endraw %}"),
        ("<%= 7*7 %>", "<%= 7*7 %>"),
        ("{{constructor.constructor('alert(1)')()}}", "{{constructor.constructor('alert(1)')()}}"),
    ],
)
def test_template_looking_text_stays_literal(source, literal):
    html = render(source)
    assert text_of(html).strip() == literal
    assert "49" not in html


def test_template_looking_link_text_and_title_stay_literal():
    html = render('[{{7*7}}](http://ok.example "{{7*7}}")')
    [link] = [dict(attrs) for tag, attrs in parse(html).elements if tag == "a"]
    assert link["title"] == "{{7*7}}"
    assert text_of(html) == "{{7*7}}"


def test_headings():
    html = render("# Title\n\n## Section\n\n###### Small")
    assert "<h1>Title</h1>" in html
    assert "<h2>Section</h2>" in html
    assert "<h6>Small</h6>" in html


def test_emphasis():
    html = render("*one* **two** _three_ __four__")
    assert "<em>one</em>" in html
    assert "<strong>two</strong>" in html
    assert "<em>three</em>" in html
    assert "<strong>four</strong>" in html


def test_lists():
    html = render("- apples\n- pears\n\n1. first\n2. second\n")
    assert "<ul>\n<li>apples</li>\n<li>pears</li>\n</ul>" in html
    assert "<ol>\n<li>first</li>\n<li>second</li>\n</ol>" in html


def test_fenced_code_shows_markup_escaped():
    html = render('```python\nif a < b and "<script>" in s:\n    pass\n```')
    assert "<pre><code" in html
    assert "if a &lt; b and" in html
    assert "&lt;script&gt;" in html
    assert text_of(html).startswith('if a < b and "<script>" in s:')
    assert problems(html) == []


def test_indented_code_and_inline_code_show_markup_escaped():
    html = render("Use `<b>` for bold.\n\n    <i>x</i> & y\n")
    assert "<code>&lt;b&gt;</code>" in html
    assert "<pre><code>&lt;i&gt;x&lt;/i&gt; &amp; y\n</code></pre>" in html


def test_tables():
    html = render("| City | Score |\n|:-----|------:|\n| Recife | 7 |\n")
    elements = [tag for tag, _ in parse(html).elements]
    assert elements == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    assert '<th align="right">Score</th>' in html, "column alignment survives sanitising"
    assert '<td align="left">Recife</td>' in html


def test_links_are_kept_with_nofollow_and_noopener():
    html = render('See [the site](https://example.org/page?a=1&b=2 "Title") and <https://example.org/auto>.')
    links = [dict(attrs) for tag, attrs in parse(html).elements if tag == "a"]
    assert [link["href"] for link in links] == ["https://example.org/page?a=1&b=2", "https://example.org/auto"]
    assert links[0]["title"] == "Title"
    for link in links:
        rel = link["rel"].split()
        assert "nofollow" in rel
        assert "noopener" in rel


def test_relative_and_fragment_links_are_kept():
    html = render("[home](/) [top](#top) [page](other/page)")
    hrefs = [dict(attrs)["href"] for tag, attrs in parse(html).elements if tag == "a"]
    assert hrefs == ["/", "#top", "other/page"]


def test_images_with_http_and_https_sources_are_kept():
    html = render('![A chart](https://example.org/chart.png "Chart") ![plain](http://example.org/p.gif)')
    images = [dict(attrs) for tag, attrs in parse(html).elements if tag == "img"]
    assert images == [
        {"alt": "A chart", "src": "https://example.org/chart.png", "title": "Chart"},
        {"alt": "plain", "src": "http://example.org/p.gif"},
    ]


def test_mailto_links_are_kept():
    html = render("[write](mailto:team@example.org) or <mailto:team@example.org>")
    hrefs = [dict(attrs)["href"] for tag, attrs in parse(html).elements if tag == "a"]
    assert hrefs[0] == "mailto:team@example.org"
    assert len(hrefs) == 2
    assert text_of(html).startswith("write or ")
    assert "team@example.org" in text_of(html)


def test_allowed_inline_html_is_kept():
    assert render("A <b>bold</b> word.") == "<p>A <b>bold</b> word.</p>"


def test_event_handlers_are_stripped_leaving_the_text():
    html = render('Click <span onclick="alert(1)">here</span> now.')
    assert html == "<p>Click here now.</p>"


def mention_links(html):
    """The href of every link carrying the mention class."""
    links = []
    for tag, attrs in parse(html).elements:
        attributes = dict(attrs)
        if tag == "a" and "mention" in (attributes.get("class") or "").split():
            links.append(attributes["href"])
    return links


def test_mentions_of_real_people_become_mention_links():
    html = render("Obrigada, @ana_mogi e @ninguem!", {"ana_mogi": "/people/ana_mogi"})
    assert mention_links(html) == ["/people/ana_mogi"]
    assert "@ninguem" in html


@pytest.mark.parametrize(
    "text",
    [
        '<a class="mention" href="https://example.com/phish">Ana</a>',
        '<a href="/people/ana_mogi" class="mention">Ana Mogi</a>',
        "<a class='mention x' href='/people/ana_mogi'>a Ana</a>",
        '<a class="mention-0123456789abcdef01234567" href="/x">Ana</a>',
    ],
)
def test_a_mention_link_written_by_hand_is_an_ordinary_link(text):
    for mentions in (None, {"ana_mogi": "/people/ana_mogi"}):
        html = render(f"Veja {text}", mentions)
        assert mention_links(html) == [], html
        assert outside_allowlist(html) == [], html
        assert "<a " in html, "the link itself stays, as any link would"


def test_only_the_servers_mention_links_carry_the_class_beside_a_forged_one():
    text = '@ana_mogi e <a class="mention" href="https://example.com/phish">@ana_mogi</a>'
    html = render(text, {"ana_mogi": "/people/ana_mogi"})
    # The @handle inside the forged link is a real person's, so the server links it; the forged link has no class.
    assert mention_links(html) == ["/people/ana_mogi", "/people/ana_mogi"]
    assert 'class="mention" href="https://example.com/phish"' not in html and "https://example.com/phish" in html


def test_empty_and_missing_text():
    assert render("") == ""
    assert render(None) == ""


def test_a_long_body_renders():
    section = (
        "## Section\n\n"
        "Some *text* with **bold**, a [link](https://example.org/x) and `code <here>`.\n\n"
        "- one\n- two\n\n"
        "| a | b |\n|---|---|\n| 1 | 2 |\n\n"
        "```\nif a < b: pass\n```\n\n"
        "> quoted {{7*7}} <img src=x onerror=alert(1)>\n\n"
    )
    body = section * 60  # 12,360 characters with 3,780 pieces of markup: under MARKUP_MAX
    html = render(body)
    assert html.count("<h2>Section</h2>") == 60
    assert html.count("<table>") == 60 and html.count("<blockquote>") == 60
    assert problems(html) == []


def test_a_long_real_text_renders_in_full():
    paragraph = (
        "A secretaria publica o **painel de indicadores** todo mês, com os dados abertos no portal "
        "([ver o portal](https://dados.example.org/painel)) e uma nota sobre o que mudou.\n\n"
    )
    body = "".join(f"## Parte {number}\n\n{paragraph * 3}- meta\n- prazo\n\n" for number in range(1, 90))
    assert len(body) > 45_000
    html = render(body)
    assert html.count("<h2>") == 89 and html.count("<strong>painel de indicadores</strong>") == 267
    assert problems(html) == []


def test_text_with_more_markup_than_the_budget_is_shown_as_written():
    section = "## Section\n\nSome *text* and <img src=x onerror=alert(1)>\n| a | b |\n\n"
    body = (section * (50_000 // len(section) + 1))[:50_000]
    assert len(MARKUP.findall(body)) > MARKUP_MAX
    html = render(body)
    assert "<h2>" not in html and "<em>" not in html and "<img" not in html
    assert html.startswith("<p>## Section</p><p>Some *text* and &lt;img src=x onerror=alert(1)&gt;<br>| a | b |</p>")
    assert text_of(html).count("## Section") == body.count("## Section")
    assert problems(html) == []


@pytest.mark.parametrize(
    "text",
    [
        "[" * 50_000,
        "[ " * 25_000,
        "[a](" * 12_500,
        "![" * 25_000,
        "> " * 25_000,
        "[x] " * 1_500 + "[ok](https://x.org)",  # under MARKUP_MAX: the link is still one
    ],
    ids=["brackets", "spaced-brackets", "open-links", "open-images", "deep-quotes", "many-references"],
)
def test_pathological_texts_render_as_literal_text(text):
    """Inputs that make Python-Markdown quadratic are defused; what they show does not change."""
    html = render(text)
    assert "\ue000" not in html
    visible = re.sub(r"<[^>]+>", "", html)
    assert visible.count("[") == text.count("[") - (1 if "[ok]" in text else 0)
    if "[ok]" in text:
        assert '<a href="https://x.org" rel="nofollow noopener">ok</a>' in html
