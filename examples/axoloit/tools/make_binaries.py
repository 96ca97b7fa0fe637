#!/usr/bin/env python3
"""Regenerate the non-plain-text documents of the Axoloit sample corpus.

Reads the UTF-8 sources in tools/src/ and writes:

  data/docs/manual/guia-instalacion-ax200.pdf   text-based multi-page PDF (fpdf2, DejaVu Sans)
  data/docs/manual/politica-garantia.docx       Word document with headings, lists and a table (python-docx)
  data/docs/manual/mantenimiento-temporada.txt  plain text encoded as Windows-1252 with CRLF line ends
  data/docs/email/reenvio-rayo-programa-reemplazo.txt
                                                UTF-8 e-mail whose quoted part is mojibake
                                                (UTF-8 bytes decoded as Latin-1, saved again as UTF-8)

Usage (from anywhere):

    python3 -m venv /tmp/axvenv
    /tmp/axvenv/bin/pip install fpdf2 python-docx
    /tmp/axvenv/bin/python examples/axoloit/tools/make_binaries.py

The source markup is a tiny Markdown subset: "# " title, "## " and "### " headings,
"- " bullets, "1. " numbered items, "| a | b |" table rows, **bold**, blank line = new paragraph.
"""

from __future__ import annotations

import datetime as _dt
import os
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent  # examples/axoloit
SRC = ROOT / "tools" / "src"
DOCS = ROOT / "data" / "docs"

FONT_DIRS = [
    "/usr/share/fonts/truetype/dejavu",
    "/usr/share/fonts/dejavu",
    "/usr/local/share/fonts",
]
FIXED_DATE = _dt.datetime(2026, 1, 15, 9, 0, 0, tzinfo=_dt.timezone.utc)


# --------------------------------------------------------------------------- parsing
def parse_blocks(text: str):
    """Yield (kind, payload) blocks from the mini-markdown source.

    kinds: title, h2, h3, para, bullet, number, table (payload = list of rows).
    """
    blocks = []
    para: list[str] = []
    table: list[list[str]] = []

    def flush_para():
        if para:
            blocks.append(("para", " ".join(s.strip() for s in para)))
            para.clear()

    def flush_table():
        if table:
            rows = [r for r in table if not all(re.fullmatch(r":?-{3,}:?", c) for c in r)]
            blocks.append(("table", rows))
            table.clear()

    for raw in text.splitlines():
        line = raw.rstrip()
        if line.startswith("|"):
            flush_para()
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            table.append(cells)
            continue
        flush_table()
        if not line.strip():
            flush_para()
        elif line.startswith("# "):
            flush_para()
            blocks.append(("title", line[2:].strip()))
        elif line.startswith("## "):
            flush_para()
            blocks.append(("h2", line[3:].strip()))
        elif line.startswith("### "):
            flush_para()
            blocks.append(("h3", line[4:].strip()))
        elif line.startswith("- "):
            flush_para()
            blocks.append(("bullet", line[2:].strip()))
        elif re.match(r"^\d+\. ", line):
            flush_para()
            num, rest = line.split(". ", 1)
            blocks.append(("number", (num, rest.strip())))
        else:
            para.append(line)
    flush_para()
    flush_table()
    return blocks


def find_font(name: str) -> str:
    for d in FONT_DIRS:
        p = Path(d) / name
        if p.exists():
            return str(p)
    sys.exit(
        f"Font {name} not found in {FONT_DIRS}. Install it with: apt-get install -y fonts-dejavu-core"
    )


# --------------------------------------------------------------------------- PDF
def make_pdf(src: Path, dst: Path) -> None:
    from fpdf import FPDF

    blocks = parse_blocks(src.read_text(encoding="utf-8"))
    title = next(p for k, p in blocks if k == "title")

    class Guide(FPDF):
        def header(self):
            if self.page_no() == 1:
                return
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 6, "Axoloit · " + title, align="L")
            self.ln(8)
            self.set_text_color(0, 0, 0)

        def footer(self):
            self.set_y(-14)
            self.set_font("DejaVu", "", 8)
            self.set_text_color(110, 110, 110)
            self.cell(0, 8, f"Página {self.page_no()} de {{nb}}", align="C")
            self.set_text_color(0, 0, 0)

    pdf = Guide(format="Letter")
    pdf.set_margins(22, 18, 22)
    pdf.set_auto_page_break(True, margin=20)
    pdf.alias_nb_pages()
    pdf.add_font("DejaVu", "", find_font("DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", find_font("DejaVuSans-Bold.ttf"))
    pdf.set_title(title)
    pdf.set_author("Axoloit S.A. de C.V.")
    pdf.set_subject("Guía de instalación del controlador de riego AX-200")
    pdf.set_keywords("Axoloit, AX-200, instalación, riego")
    pdf.set_creator("tools/make_binaries.py")
    pdf.set_creation_date(FIXED_DATE)
    pdf.add_page()

    width = pdf.w - pdf.l_margin - pdf.r_margin
    first_para_after_title = False
    for kind, payload in blocks:
        pdf.set_x(pdf.l_margin)
        if kind == "title":
            pdf.set_font("DejaVu", "B", 20)
            pdf.set_text_color(15, 107, 79)
            pdf.multi_cell(width, 10, payload, align="L")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(2)
            first_para_after_title = True
        elif kind == "h2":
            if pdf.get_y() > pdf.h - 60:
                pdf.add_page()
            pdf.ln(4)
            pdf.set_font("DejaVu", "B", 14)
            pdf.set_text_color(15, 107, 79)
            pdf.multi_cell(width, 8, payload, align="L")
            pdf.set_text_color(0, 0, 0)
            pdf.ln(1)
        elif kind == "h3":
            pdf.ln(2)
            pdf.set_font("DejaVu", "B", 11.5)
            pdf.multi_cell(width, 7, payload, align="L")
        elif kind == "para":
            if first_para_after_title:
                pdf.set_font("DejaVu", "", 9)
                pdf.set_text_color(90, 90, 90)
                pdf.multi_cell(width, 5, payload, align="L")
                pdf.set_text_color(0, 0, 0)
                pdf.ln(4)
                first_para_after_title = False
                continue
            pdf.set_font("DejaVu", "", 10.5)
            pdf.multi_cell(width, 5.6, payload, markdown=True, align="L")
            pdf.ln(2.5)
        elif kind in ("bullet", "number"):
            pdf.set_font("DejaVu", "", 10.5)
            label = "•" if kind == "bullet" else payload[0] + "."
            text = payload if kind == "bullet" else payload[1]
            pdf.set_x(pdf.l_margin + 4)
            pdf.cell(6, 5.6, label)
            pdf.multi_cell(width - 10, 5.6, text, markdown=True, align="L")
            pdf.ln(1)
        elif kind == "table":
            pdf.set_font("DejaVu", "", 9.5)
            with pdf.table() as t:
                for row in payload:
                    r = t.row()
                    for c in row:
                        r.cell(c)
            pdf.ln(3)
    dst.parent.mkdir(parents=True, exist_ok=True)
    pdf.output(str(dst))


# --------------------------------------------------------------------------- DOCX
def _add_runs(par, text: str) -> None:
    parts = re.split(r"(\*\*[^*]+\*\*)", text)
    for part in parts:
        if not part:
            continue
        if part.startswith("**") and part.endswith("**"):
            par.add_run(part[2:-2]).bold = True
        else:
            par.add_run(part)


def make_docx(src: Path, dst: Path) -> None:
    from docx import Document
    from docx.shared import Pt

    blocks = parse_blocks(src.read_text(encoding="utf-8"))
    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = "Calibri"
    style.font.size = Pt(11)

    title = next(p for k, p in blocks if k == "title")
    cp = doc.core_properties
    cp.title = title
    cp.author = "Fernanda Lugo Arellano"
    cp.last_modified_by = "Rodrigo Camarena"
    cp.subject = "Garantía de productos"
    cp.keywords = "garantía, Axoloit, devoluciones"
    cp.language = "es-MX"
    cp.created = FIXED_DATE.replace(tzinfo=None)
    cp.modified = FIXED_DATE.replace(tzinfo=None)

    after_title = False
    for kind, payload in blocks:
        if kind == "title":
            doc.add_heading(payload, level=0)
            after_title = True
        elif kind == "h2":
            doc.add_heading(payload, level=1)
        elif kind == "h3":
            doc.add_heading(payload, level=2)
        elif kind == "para":
            p = doc.add_paragraph()
            _add_runs(p, payload)
            if after_title:
                for r in p.runs:
                    r.italic = True
                after_title = False
        elif kind == "bullet":
            _add_runs(doc.add_paragraph(style="List Bullet"), payload)
        elif kind == "number":
            _add_runs(doc.add_paragraph(style="List Number"), payload[1])
        elif kind == "table":
            rows = payload
            table = doc.add_table(rows=len(rows), cols=len(rows[0]))
            table.style = "Table Grid"
            for i, row in enumerate(rows):
                for j, cell in enumerate(row):
                    table.cell(i, j).text = cell
                    if i == 0:
                        for r in table.cell(i, j).paragraphs[0].runs:
                            r.bold = True
    dst.parent.mkdir(parents=True, exist_ok=True)
    doc.save(str(dst))


# --------------------------------------------------------------------------- Windows-1252
def make_cp1252(src: Path, dst: Path) -> None:
    text = src.read_text(encoding="utf-8")
    data = text.replace("\r\n", "\n").replace("\n", "\r\n").encode("cp1252")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:  # pragma: no cover - the source must contain non-ASCII text
        sys.exit(f"{dst} would be valid UTF-8; add accented characters to the source")
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_bytes(data)


# --------------------------------------------------------------------------- mojibake
def make_mojibake(src: Path, dst: Path) -> None:
    """Replace every <<<MOJIBAKE ... MOJIBAKE>>> block by its UTF-8-read-as-Latin-1 form."""

    def garble(m: re.Match) -> str:
        s = m.group(1).encode("utf-8").decode("latin-1")
        bad = [c for c in s if 0x80 <= ord(c) <= 0x9F]
        if bad:
            sys.exit(f"mojibake block would contain C1 control characters: {bad!r}")
        return s

    text = src.read_text(encoding="utf-8")
    out = re.sub(r"<<<MOJIBAKE\n(.*?)\nMOJIBAKE>>>", garble, text, flags=re.S)
    dst.parent.mkdir(parents=True, exist_ok=True)
    dst.write_text(out, encoding="utf-8")


def main() -> None:
    make_pdf(SRC / "guia-instalacion-ax200.md", DOCS / "manual" / "guia-instalacion-ax200.pdf")
    make_docx(SRC / "politica-garantia.md", DOCS / "manual" / "politica-garantia.docx")
    make_cp1252(SRC / "mantenimiento-temporada.txt", DOCS / "manual" / "mantenimiento-temporada.txt")
    make_mojibake(
        SRC / "reenvio-rayo-programa-reemplazo.txt",
        DOCS / "email" / "reenvio-rayo-programa-reemplazo.txt",
    )
    for p in [
        DOCS / "manual" / "guia-instalacion-ax200.pdf",
        DOCS / "manual" / "politica-garantia.docx",
        DOCS / "manual" / "mantenimiento-temporada.txt",
        DOCS / "email" / "reenvio-rayo-programa-reemplazo.txt",
    ]:
        print(f"{os.path.relpath(p, ROOT)}  {p.stat().st_size} bytes")


if __name__ == "__main__":
    main()
