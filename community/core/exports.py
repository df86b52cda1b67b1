"""Writing data out for spreadsheets: CSV cells that cannot run as formulas."""

import csv
import io

from flask import Response

# Spreadsheets run a cell starting with one of these as a formula (or a DDE command).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(value):
    """A cell's text; one that a spreadsheet would read as a formula gets a leading quote and stays text."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def csv_response(header, rows, filename):
    """A CSV download of `rows` (sequences of values), every cell neutralised, UTF-8 with a BOM for Excel."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(header)
    writer.writerows([csv_cell(value) for value in row] for row in rows)
    return Response(
        out.getvalue(),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
