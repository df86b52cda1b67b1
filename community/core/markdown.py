"""User text: Markdown rendered once on save, then sanitised with an allowlist."""

import re
import xml.etree.ElementTree as etree

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
# Deeply nested quotes are just as costly; nobody quotes a quote of a quote ten times.
QUOTE_DEPTH_MAX = 8
DEEP_QUOTE = re.compile(rf"^((?:[ \t]*>){{{QUOTE_DEPTH_MAX}}})(?:[ \t]*>)+", flags=re.MULTILINE)
ALLOWED_CLASSES = {"a": {"mention"}}

# @handle, not inside a word or an e-mail address.
MENTION = r"(?<![\w@.])@([a-z0-9_]{3,30})\b"


class _MentionLinks(InlineProcessor):
    def __init__(self, mentions):
        super().__init__(MENTION)
        self.mentions = mentions

    def handleMatch(self, m, data):
        url = self.mentions.get(m.group(1))
        if url is None:
            return None, None, None
        link = etree.Element("a", {"href": url, "class": "mention"})
        link.text = m.group(0)
        return link, m.start(0), m.end(0)


def mentioned_handles(text):
    """The @handles written in `text`, outside code."""
    without_code = re.sub(r"```.*?```|`[^`]*`", " ", text or "", flags=re.DOTALL)
    return set(re.findall(MENTION, without_code))


def _defused(text):
    """`text` with the constructs that make Python-Markdown slow made plain; ordinary texts are untouched."""
    text = DEEP_QUOTE.sub(r"\1", text)
    if text.count("[") <= BRACKETS_BEFORE_GUARD:
        return text
    pieces, start = [], 0
    for link in SIMPLE_LINK.finditer(text):
        pieces.append(text[start : link.start()].replace("[", LITERAL_BRACKET))
        pieces.append(link.group(0))
        start = link.end()
    pieces.append(text[start:].replace("[", LITERAL_BRACKET))
    return "".join(pieces)


def render(text, mentions=None):
    """Return safe HTML for the Markdown `text`: no scripts, no event attributes, no javascript:/data: links.

    `mentions` maps the handles of real people to their page, so that those @handles become links.
    """
    renderer = md.Markdown(extensions=EXTENSIONS, extension_configs=EXTENSION_CONFIGS, output_format="html")
    if mentions:
        renderer.inlinePatterns.register(_MentionLinks(mentions), "mention", 175)
    html = renderer.convert(_defused((text or "").replace(LITERAL_BRACKET, "")))
    html = html.replace(LITERAL_BRACKET, "[")
    return nh3.clean(
        html,
        tags=ALLOWED_TAGS,
        attributes=ALLOWED_ATTRIBUTES,
        allowed_classes=ALLOWED_CLASSES,
        url_schemes=ALLOWED_URL_SCHEMES,
        link_rel="nofollow noopener",
        strip_comments=True,
    )
