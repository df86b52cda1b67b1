"""PDF documents the platform writes (the handover dossier, activity records), with fpdf2 and a Unicode font.

fpdf2's built-in fonts only know Latin-1, so the text is set in DejaVu Sans, which `make setup` copies from the
npm package `dejavu-fonts-ttf` into `PDF_FONT_DIR` (static/vendor/fonts by default): accents (ã, ç, é, ñ, ¿) and
typographic quotes (“ ”) come out as written.
"""

from pathlib import Path

from flask import current_app
from fpdf import FPDF

FONT = "DejaVu"
REGULAR = "DejaVuSans.ttf"
BOLD = "DejaVuSans-Bold.ttf"


class FontMissing(RuntimeError):
    """The PDF font is not installed: run `make setup` (or `make vendor`)."""


def font_dir():
    folder = Path(current_app.config["PDF_FONT_DIR"])
    if not (folder / REGULAR).is_file() or not (folder / BOLD).is_file():
        raise FontMissing(f"{REGULAR} and {BOLD} are not in {folder}: run `make vendor` to install them")
    return folder


class Document(FPDF):
    """An A4 document with a title, headings, paragraphs and key-value lines, and a footer with page numbers."""

    def __init__(self, title, footer_text=""):
        super().__init__(format="A4")
        folder = font_dir()
        self.add_font(FONT, "", str(folder / REGULAR))
        self.add_font(FONT, "B", str(folder / BOLD))
        self.footer_text = footer_text
        self.set_title(title)
        self.set_creator("Comunidade")
        self.set_auto_page_break(True, margin=18)
        self.set_margins(18, 18, 18)
        self.add_page()
        self.set_font(FONT, "B", 17)
        self.multi_cell(0, 9, title, new_x="LMARGIN", new_y="NEXT")
        self.ln(2)

    def footer(self):
        self.set_y(-12)
        self.set_font(FONT, "", 8)
        self.set_text_color(90, 90, 90)
        self.cell(0, 6, f"{self.footer_text}  ·  {self.page_no()}", align="R")
        self.set_text_color(0, 0, 0)

    def heading(self, text, level=1):
        self.ln(3 if level == 1 else 1)
        self.set_font(FONT, "B", 14 if level == 1 else 11)
        self.multi_cell(0, 7 if level == 1 else 6, text, new_x="LMARGIN", new_y="NEXT")
        self.set_font(FONT, "", 10)

    def paragraph(self, text, size=10):
        self.set_font(FONT, "", size)
        self.multi_cell(0, 5, text or "—", new_x="LMARGIN", new_y="NEXT")

    def pair(self, label, value):
        self.set_font(FONT, "B", 10)
        self.write(5, f"{label}: ")
        self.set_font(FONT, "", 10)
        self.write(5, str(value) if value not in (None, "") else "—")
        self.ln(5)

    def bullets(self, lines, empty="—"):
        self.set_font(FONT, "", 10)
        if not lines:
            self.multi_cell(0, 5, empty, new_x="LMARGIN", new_y="NEXT")
            return
        for line in lines:
            self.multi_cell(0, 5, f"• {line}", new_x="LMARGIN", new_y="NEXT")

    def bytes(self):
        return bytes(self.output())
