"""Pathological Markdown: texts at the largest size a Markdown field takes, each built to find a slow path of the
renderer (rescans, deep nesting, many placeholders). bench/markdown.py times them; tests check the behaviour."""

SIZE = 50_000  # the longest Markdown text any field or the preview takes


def _fill(unit, size=SIZE):
    return (unit * (size // len(unit) + 1))[:size]


def _nested_lists(size):
    lines, depth = [], 0
    while sum(map(len, lines)) < size:
        lines.append("    " * (depth % 60) + "- a\n")
        depth += 1
    return "".join(lines)[:size]


def corpus(size=SIZE):
    """(name, text) pairs of at most `size` characters."""
    return [
        ("unclosed-tags", _fill("<a ", size)),
        ("nested-definitions", _fill("a\n: b\n", size)),
        ("tags", _fill("<b>", size)),
        ("closed-tags", _fill('<a href="x">y</a>', size)),
        ("comments", _fill("<!--", size)),
        ("less-than", _fill("<", size)),
        ("brackets", _fill("[", size)),
        ("open-links", _fill("[a](", size)),
        ("links", _fill("[a](https://x.org) ", size)),
        ("images", _fill("![a](https://x.org/a.png) ", size)),
        ("references", _fill("[x] ", size)),
        ("deep-quotes", _fill("> ", size)),
        ("quote-lines", _fill(">\n", size)),
        ("emphasis", _fill("*a* ", size)),
        ("strong", _fill("**a** ", size)),
        ("stars", _fill("*", size)),
        ("underscores", _fill("_", size)),
        ("mixed-emphasis", _fill("**_", size)),
        ("code-spans", _fill("`a` ", size)),
        ("backticks", _fill("`", size)),
        ("unclosed-fence", "```\n" + _fill("a\n", size - 4)),
        ("backslashes", _fill("\\", size)),
        ("entities", _fill("&amp; ", size)),
        ("bare-ampersands", _fill("&", size)),
        ("autolinks", _fill("<https://x.org> ", size)),
        ("line-breaks", _fill("a  \n", size)),
        ("list", _fill("- a\n", size)),
        ("nested-lists", _nested_lists(size)),
        ("table", "|a|b|\n|-|-|\n" + _fill("|a|b|\n", size - 12)),
        ("table-cells", "|a|b|\n|-|-|\n|" + _fill("a|", size - 13)),
        ("headings", _fill("# a\n", size)),
        ("setext-headings", _fill("a\n=\n", size)),
        ("abbreviations", _fill("*[a]: b\n", size)),
        ("mentions", _fill("@ana_souza ", size)),
        ("one-long-word", "a" * size),
    ]
