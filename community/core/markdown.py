"""User text: Markdown rendered once on save, then sanitised with an allowlist."""

import re
import secrets
import xml.etree.ElementTree as etree
from html import escape

import markdown as md
import nh3
from markdown.inlinepatterns import InlineProcessor

ALLOWED_TAGS = {
    "a", "abbr", "b", "blockquote", "br", "code", "dd", "del", "dl", "dt", "em", "h1", "h2", "h3",
    "h4", "h5", "h6", "hr", "i", "img", "li", "ol", "p", "pre", "s", "strong", "sub", "sup",
    "table", "tbody", "td", "th", "thead", "tr", "ul",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {
    "a": {"href", "title"},
    "abbr": {"title"},
    "img": {"src", "alt", "title"},
    "td": {"align"},
    "th": {"align"},
}
ALLOWED_URL_SCHEMES = {"http", "https", "mailto"}
EXTENSIONS = ["abbr", "def_list", "fenced_code", "tables", "sane_lists"]
EXTENSION_CONFIGS = {"tables": {"use_align_attribute": True}}

# Python-Markdown scans ahead from every "[" for its closing bracket, so a text with thousands of them takes
# quadratic time (Python-Markdown issue 798). Past this many, only simple, well-formed links keep their
# brackets; any other "[" is hidden from Markdown behind a private-use character and put back afterwards, so it
# shows as the same literal "[" it would have been. (Backslash escapes would be quadratic too.)
BRACKETS_BEFORE_GUARD = 100
LITERAL_BRACKET = "\ue000"
SIMPLE_LINK = re.compile(
    r"!?\[[^\[\]\n]{0,500}\]"  # [text] or ![alt]
    r"(?:\([^()\s]{0,2000}(?:\s+\"[^\"\n]{0,200}\")?\)"  # (url "title")
    r"|\[[^\[\]\n]{0,100}\])"  # or [reference]
)
# A definition line (": ...") right under a line that itself continues a definition opens a definition inside the
# definition, one level deeper each time: "a\n: b\n" * 600 exceeds Python's recursion limit. Such a line is shown as
# the literal text it would have been, hidden from Markdown like a bracket.
NESTED_DEFINITION = re.compile(r"(?<=\n)(?=:[ \t])")
LITERAL_COLON = "\ue001"
# Python-Markdown finds a heading in a block, then puts the rest of the block back to be searched again: a block of
# thousands of heading lines ("# a\n" or "a\n=\n" repeated) took a minute. Past this many heading lines, each
# heading line is followed by a blank line, which ends the block there and changes nothing that is shown.
HEADINGS_BEFORE_GUARD = 50
HEADING_LINE = re.compile(r"^(?:#{1,6}(?:[ \t#]|$)|[=-]+[ \t]*$)")
FENCE = re.compile(r"^[ \t]{0,3}(?:`{3,}|~{3,})")
# Deeply nested quotes are just as costly; nobody quotes a quote of a quote ten times.
QUOTE_DEPTH_MAX = 8
DEEP_QUOTE = re.compile(rf"^((?:[ \t]*>){{{QUOTE_DEPTH_MAX}}})(?:[ \t]*>)+", flags=re.MULTILINE)
# What Python-Markdown spends its time on: markup characters, lines and indentation (each of its passes walks them,
# and some walk them again per nesting level or per placeholder). Measured with bench/markdown.py, a text with this
# many renders in well under 100 ms whatever they are, while a long real text (a 50,000-character case write-up with
# headings, lists, tables and links) has about 2,000. A text with more is shown as written, escaped, its paragraphs
# and line breaks kept: nobody writes 4,000 pieces of markup in one post, and rendering them could take seconds.
MARKUP_MAX = 4_000
MARKUP = re.compile(r"[*_`\[\]<>&\\|!#=:~\n-]|    |\t")
# Only the server makes mention links: the processor marks its own with a class made up for that one rendering,
# and the sanitiser turns that mark into "mention" and drops every other class, so a `class="mention"` written by
# hand goes like any other class.
MENTION_CLASS = "mention"

# @handle, not inside a word or an e-mail address.
MENTION = r"(?<![\w@.])@([a-z0-9_]{3,30})\b"


class _MentionLinks(InlineProcessor):
    def __init__(self, mentions, mark):
        super().__init__(MENTION)
        self.mentions = mentions
        self.mark = mark

    def handleMatch(self, m, data):
        url = self.mentions.get(m.group(1))
        if url is None:
            return None, None, None
        link = etree.Element("a", {"href": url, "class": self.mark})
        link.text = m.group(0)
        return link, m.start(0), m.end(0)


def mentioned_handles(text):
    """The @handles written in `text`, outside code."""
    without_code = re.sub(r"```.*?```|`[^`]*`", " ", text or "", flags=re.DOTALL)
    return set(re.findall(MENTION, without_code))


def _flat_definitions(text):
    """Definition lines that would nest inside the definition above them, made literal text."""
    lines, in_definition, after_text = text.split("\n"), False, False
    for number, line in enumerate(lines):
        if not line.strip():
            in_definition = after_text = False
        elif line.startswith(":") and line[1:2] in (" ", "\t"):
            if in_definition and after_text:
                lines[number] = LITERAL_COLON + line[1:]
            else:
                in_definition, after_text = True, False
        elif in_definition:
            after_text = True
    return "\n".join(lines)


def _separated_headings(text):
    """A blank line after each heading line, outside fenced code."""
    lines, in_fence = [], False
    for line in text.split("\n"):
        lines.append(line)
        if FENCE.match(line):
            in_fence = not in_fence
        elif not in_fence and HEADING_LINE.match(line):
            lines.append("")
    return "\n".join(lines)


def _defused(text):
    """`text` with the constructs that make Python-Markdown slow made plain; ordinary texts are untouched."""
    text = DEEP_QUOTE.sub(r"\1", text)
    if sum(1 for line in text.split("\n") if HEADING_LINE.match(line)) > HEADINGS_BEFORE_GUARD:
        text = _separated_headings(text)
    if "\n:" in text:
        text = _flat_definitions(text)
    if text.count("[") <= BRACKETS_BEFORE_GUARD:
        return text
    pieces, start = [], 0
    for link in SIMPLE_LINK.finditer(text):
        pieces.append(text[start : link.start()].replace("[", LITERAL_BRACKET))
        pieces.append(link.group(0))
        start = link.end()
    pieces.append(text[start:].replace("[", LITERAL_BRACKET))
    return "".join(pieces)


def _as_written(text):
    """The text escaped, as paragraphs with their line breaks: the same on the page whatever its markup."""
    paragraphs = re.split(r"\n[ \t]*\n", text.strip("\n"))
    lines = (part.split("\n") for part in paragraphs if part.strip())
    return "".join("<p>" + "<br>".join(map(escape, part)) + "</p>" for part in lines)


def _markdown(text, mentions, mark):
    """Python-Markdown's HTML for `text`, with the mention links of `mentions` carrying the class `mark`."""
    renderer = md.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")
    # Raw HTML blocks go through html.parser, which rescans the rest of the text from every unclosed tag:
    # "<a " * 16000 took 16 s. Without this step raw tags are still read inline, one at a time, and the
    # allowlist below keeps the same few it kept before.
    renderer.preprocessors.deregister("html_block")
    if mentions:
        renderer.inlinePatterns.register(_MentionLinks(mentions, mark), "mention", 175)
    try:
        html = renderer.convert(_defused(text))
    except RecursionError:
        # Some other nesting deeper than Python allows: the text is shown as it was written, never a 500.
        return _as_written(text)
    return html.replace(LITERAL_BRACKET, "[").replace(LITERAL_COLON, ":")


def shown_as_written(text):
    """Whether `text` has more markup than MARKUP_MAX, so that render shows it as written."""
    return sum(1 for _piece in MARKUP.finditer(text or "")) > MARKUP_MAX


def render(text, mentions=None):
    """Return safe HTML for the Markdown `text`: no scripts, no event attributes, no javascript:/data: links.

    `mentions` maps the handles of real people to their page, so that those @handles become links. A text with
    more than MARKUP_MAX pieces of markup is shown as written.
    """
    text = (text or "").replace(LITERAL_BRACKET, "").replace(LITERAL_COLON, "")
    if shown_as_written(text):
        return _as_written(text)  # every character escaped: nothing for the sanitiser to do
    mark = f"{MENTION_CLASS}-{secrets.token_hex(12)}"

    def server_mentions_only(tag, attribute, value):
        if attribute != "class":
            return value
        return MENTION_CLASS if tag == "a" and value == mark else None

    return nh3.clean(
        _markdown(text, mentions, mark),
        tags=ALLOWED_TAGS,
        attributes={**ALLOWED_ATTRIBUTES, "a": ALLOWED_ATTRIBUTES["a"] | {"class"}},
        attribute_filter=server_mentions_only,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )
