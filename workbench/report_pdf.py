"""A case report as PDF (A4, reportlab): map, timeline, sightings, key frames and the case's audit summary.

Built from data the case has already authorised (the facade's ``Case.report`` gathers it through the
access layer and audits the file's SHA-256). Every page carries the case reference in its header and
"page n of N" in its footer; times read in Brussels local time, with UTC stated; the sightings table
repeats its header on each page it spans.

    >>> pdf = render_report(content, lang="fr")          # doctest: +SKIP
    >>> pdf[:5]                                          # doctest: +SKIP
    b'%PDF-'
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

import pandas as pd

from workbench.config import LANGUAGES
from workbench.timeutil import format_local, format_utc, local

_WORDS: dict[str, tuple[str, str, str]] = {
    "title": ("Rapport de dossier", "Dossierrapport", "Case report"),
    "case": ("Dossier", "Dossier", "Case"),
    "purpose": ("Finalité", "Doeleinde", "Purpose"),
    "legal_basis": ("Base légale", "Rechtsgrond", "Legal basis"),
    "author": ("Auteur", "Auteur", "Author"),
    "created": ("Créé le", "Aangemaakt op", "Created"),
    "subject": ("Plaque suivie", "Gevolgde nummerplaat", "Plate followed"),
    "times": ("Les heures sont celles de Bruxelles (CET/CEST) ; l'heure UTC figure à côté.",
              "De tijden zijn Brusselse tijd (CET/CEST); de UTC-tijd staat ernaast.",
              "Times are Brussels time (CET/CEST); UTC is given beside them."),
    "map": ("Carte", "Kaart", "Map"),
    "timeline": ("Chronologie", "Tijdlijn", "Timeline"),
    "sightings": ("Passages", "Doorgangen", "Sightings"),
    "no": ("N°", "Nr.", "No."),
    "camera": ("Caméra", "Camera", "Camera"),
    "plate": ("Plaque", "Nummerplaat", "Plate"),
    "plate_read": ("Plaque lue", "Gelezen plaat", "Plate as read"),
    "brussels": ("Heure (Bruxelles)", "Tijd (Brussel)", "Time (Brussels)"),
    "utc": ("UTC", "UTC", "UTC"),
    "key_frames": ("Images clés", "Sleutelbeelden", "Key frames"),
    "no_key_frames": ("Aucune image de caméra de ce dossier ne montre ce trajet.",
                      "Geen camerabeeld van dit dossier toont dit traject.",
                      "No camera picture of this case shows this trajectory."),
    "audit": ("Journal d'audit du dossier (résumé)", "Audittrail van het dossier (samenvatting)",
              "The case's audit trail (summary)"),
    "action": ("Action", "Actie", "Action"),
    "outcome": ("Résultat", "Resultaat", "Outcome"),
    "events": ("Événements", "Gebeurtenissen", "Events"),
    "first": ("Premier", "Eerste", "First"),
    "last": ("Dernier", "Laatste", "Last"),
    "page": ("Page {n} sur {total}", "Pagina {n} van {total}", "Page {n} of {total}"),
    "sha": ("Empreinte SHA-256 du fichier dans le journal d'audit (export-report).",
            "SHA-256-vingerafdruk van het bestand in de audittrail (export-report).",
            "The file's SHA-256 is recorded in the audit trail (export-report)."),
}


def word(key: str, lang: str) -> str:
    """A word of the report in ``lang``."""
    return _WORDS[key][LANGUAGES.index(lang if lang in LANGUAGES else "fr")]


@dataclass
class KeyFrame:
    """A picture of the footage for the report: camera, its true time (UTC), a JPEG, a caption."""

    camera_id: str
    time: datetime
    jpeg: bytes
    caption: str = ""


@dataclass
class ReportContent:
    """What a report shows, authorised beforehand: case facts, sightings (``result_export.export_rows``),
    the map and timeline pictures, key frames and the audit counts (``CaseScope.audit_summary``)."""

    reference: str
    title: str
    purpose: str
    legal_basis: str
    author: str
    created: datetime
    plate: str
    sightings: pd.DataFrame
    map_png: bytes
    timeline_png: bytes
    key_frames: list[KeyFrame] = field(default_factory=list)
    audit_summary: pd.DataFrame = field(default_factory=pd.DataFrame)


@dataclass
class CaseReport:
    """A written report: the PDF's bytes, its SHA-256 (as audited) and page count; ``save(path)`` writes it."""

    reference: str
    plate: str
    created: datetime
    pages: int
    sha256: str
    pdf: bytes

    def save(self, path: Path | str) -> Path:
        """Write the PDF to ``path`` (a folder gets the report's own name) and return where it went."""
        target = Path(path)
        if target.is_dir():
            target = target / self.filename
        target.write_bytes(self.pdf)
        return target

    @property
    def filename(self) -> str:
        return f"report_{self.reference}_{self.plate}_{self.created:%Y%m%dT%H%M%SZ}.pdf"


def timeline_png(sightings: pd.DataFrame, lang: str = "fr") -> bytes:
    """The sightings on a time axis in Brussels time, one row per camera, numbered as in the table."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.dates as mdates
    from matplotlib.figure import Figure

    times = pd.to_datetime(sightings["time"], utc=True).dt.tz_convert("Europe/Brussels")
    cameras = list(dict.fromkeys(sightings["camera_id"].astype(str)))
    fig = Figure(figsize=(7.2, 0.5 + 0.28 * max(3, len(cameras))), dpi=160)
    ax = fig.add_axes((0.24, 0.22, 0.74, 0.74))
    ys = [cameras.index(str(c)) for c in sightings["camera_id"]]
    ax.plot(times, ys, color="#c62828", linewidth=1, alpha=0.5)
    ax.scatter(times, ys, color="#0d47a1", s=40, zorder=3)
    for n, (t, y) in enumerate(zip(times, ys), 1):
        ax.annotate(str(n), (t, y), textcoords="offset points", xytext=(0, 6), ha="center", fontsize=6)
    ax.set_yticks(range(len(cameras)), cameras, fontsize=6)
    ax.set_ylim(-0.8, len(cameras) - 0.2)
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M", tz="Europe/Brussels"))
    ax.tick_params(axis="x", labelsize=7)
    ax.set_xlabel(word("brussels", lang), fontsize=7)
    ax.grid(axis="x", color="#dddddd")
    out = io.BytesIO()
    fig.savefig(out, format="png")
    return out.getvalue()


def _when(value: datetime) -> str:
    return f"{format_local(value)} ({local(value):%z}) — {format_utc(value)}"


def render_report(content: ReportContent, lang: str = "fr") -> tuple[bytes, int]:
    """The PDF of ``content`` and its number of pages."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import getSampleStyleSheet
    from reportlab.lib.units import mm
    from reportlab.pdfgen.canvas import Canvas
    from reportlab.platypus import (
        Image,
        KeepTogether,
        PageBreak,
        Paragraph,
        SimpleDocTemplate,
        Spacer,
        Table,
        TableStyle,
    )

    styles = getSampleStyleSheet()
    body, small = styles["BodyText"], styles["BodyText"].clone("small", fontSize=7.5, leading=9)
    width = A4[0] - 36 * mm
    pages: list[int] = []

    class NumberedCanvas(Canvas):
        """Pages held until the end, so each footer can say "page n of N"."""

        def __init__(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
            super().__init__(*args, **kwargs)
            self._pages: list[dict] = []

        def showPage(self) -> None:  # noqa: N802 (reportlab's name)
            self._pages.append(dict(self.__dict__))
            self._startPage()

        def save(self) -> None:
            total = len(self._pages)
            pages.append(total)
            for n, state in enumerate(self._pages, 1):
                self.__dict__.update(state)
                self.setFont("Helvetica", 8)
                self.setFillColor(colors.HexColor("#444444"))
                self.drawString(18 * mm, A4[1] - 12 * mm, f"{word('case', lang)} {content.reference} — "
                                f"{content.title[:70]}")
                self.drawRightString(A4[0] - 18 * mm, A4[1] - 12 * mm, f"{word('subject', lang)}: {content.plate}")
                self.line(18 * mm, A4[1] - 13.5 * mm, A4[0] - 18 * mm, A4[1] - 13.5 * mm)
                self.drawString(18 * mm, 10 * mm, f"{word('created', lang)} {_when(content.created)}")
                self.drawRightString(A4[0] - 18 * mm, 10 * mm, word("page", lang).format(n=n, total=total))
                super().showPage()
            super().save()

    def image(png: bytes, max_height: float) -> Image:
        picture = Image(io.BytesIO(png))
        scale = min(width / picture.imageWidth, max_height / picture.imageHeight)
        picture.drawWidth, picture.drawHeight = picture.imageWidth * scale, picture.imageHeight * scale
        return picture

    def table(rows: list[list], widths: list[float], *, header: bool = True) -> Table:
        grid = Table(rows, colWidths=widths, repeatRows=1 if header else 0)
        grid.setStyle(TableStyle([
            ("FONT", (0, 0), (-1, -1), "Helvetica", 7.5),
            ("FONT", (0, 0), (-1, 0) if header else (0, -1), "Helvetica-Bold", 7.5),
            ("BACKGROUND", (0, 0), (-1, 0) if header else (0, -1), colors.HexColor("#e3eaf5")),
            ("ROWBACKGROUNDS", (0, 1), (-1, -1), [colors.white, colors.HexColor("#f6f6f6")]),
            ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#bbbbbb")), ("VALIGN", (0, 0), (-1, -1), "TOP")]))
        return grid

    story: list = [Paragraph(f"{word('title', lang)} — {content.reference}", styles["Title"])]
    facts = [(word("case", lang), f"{content.reference} — {content.title}"), (word("purpose", lang), content.purpose),
             (word("legal_basis", lang), content.legal_basis), (word("subject", lang), content.plate),
             (word("author", lang), content.author), (word("created", lang), _when(content.created))]
    story += [table([[k, Paragraph(v, small)] for k, v in facts], [35 * mm, width - 35 * mm], header=False),
              Spacer(1, 3 * mm), Paragraph(word("times", lang), small), Spacer(1, 4 * mm),
              KeepTogether([Paragraph(word("map", lang), styles["Heading2"]), image(content.map_png, 125 * mm)]),
              KeepTogether([Paragraph(word("timeline", lang), styles["Heading2"]),
                            image(content.timeline_png, 50 * mm)]),
              PageBreak(), Paragraph(f"{word('sightings', lang)} ({len(content.sightings)})", styles["Heading2"])]
    rows = [[word("no", lang), word("brussels", lang), word("utc", lang), word("camera", lang), word("plate", lang),
             word("plate_read", lang)]]
    for n, r in enumerate(content.sightings.itertuples(), 1):
        brussels = pd.Timestamp(r.time_brussels)
        rows.append([str(n), f"{brussels:%d/%m/%Y %H:%M:%S} ({brussels:%z})", r.time_utc, r.camera_id, r.plate,
                     r.plate_as_read])
    story.append(table(rows, [10 * mm, 38 * mm, 38 * mm, 40 * mm, 24 * mm, width - 150 * mm]))
    story.append(Paragraph(word("key_frames", lang), styles["Heading2"]))
    if not content.key_frames:
        story.append(Paragraph(word("no_key_frames", lang), body))
    for frame in content.key_frames:
        caption = f"{frame.camera_id} — {_when(frame.time)}" + (f" — {frame.caption}" if frame.caption else "")
        story.append(KeepTogether([image(frame.jpeg, 80 * mm), Paragraph(caption, small), Spacer(1, 3 * mm)]))
    story.append(Paragraph(word("audit", lang), styles["Heading2"]))
    audit_rows = [[word("action", lang), word("outcome", lang), word("events", lang), word("first", lang),
                   word("last", lang)]]
    for r in content.audit_summary.itertuples():
        audit_rows.append([r.action, r.outcome, str(r.events), format_local(r.first), format_local(r.last)])
    story += [table(audit_rows, [52 * mm, 22 * mm, 24 * mm, (width - 98 * mm) / 2, (width - 98 * mm) / 2]),
              Spacer(1, 3 * mm), Paragraph(word("sha", lang), small)]
    out = io.BytesIO()
    document = SimpleDocTemplate(out, pagesize=A4, leftMargin=18 * mm, rightMargin=18 * mm, topMargin=18 * mm,
                                 bottomMargin=16 * mm, title=f"{word('title', lang)} {content.reference}",
                                 author=content.author, subject=content.plate, invariant=True)
    document.build(story, canvasmaker=NumberedCanvas)
    return out.getvalue(), pages[-1]


def sha256(data: bytes) -> str:
    """The SHA-256 of a report's bytes, as the audit trail records it."""
    return hashlib.sha256(data).hexdigest()
