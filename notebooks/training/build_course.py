"""Write the training course's notebooks: five modules, in French and Dutch, as exercises and as solutions.

    python notebooks/training/build_course.py          # rewrites notebooks/training/{fr,nl} and solutions/

One description per module (the text in both languages, each code cell as the
trainee gets it and as the solution writes it) keeps the four versions of a
module in step; ``tests/test_training_course.py`` checks that the committed
notebooks are the ones this script writes. Exercises leave ``None`` where the
trainee answers (``# À COMPLÉTER`` / ``# AAN TE VULLEN``); their check cells
then say "not yet answered" and the notebook still runs from top to bottom.
Solutions end with a cell asserting that every check of the module passes.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
TODO = {"fr": "# À COMPLÉTER", "nl": "# AAN TE VULLEN"}
REFUSED = {"fr": "refusé :", "nl": "geweigerd:"}


@dataclass(frozen=True)
class Text:
    """A markdown cell, in French and in Dutch."""

    fr: str
    nl: str


@dataclass(frozen=True)
class Code:
    """A code cell: as the trainee gets it, and as the solution has it (same text when ``solution`` is None).

    ``{todo}`` becomes the language's blank marker, ``{refused}`` the word for a refusal.
    """

    exercise: str
    solution: str | None = None


@dataclass(frozen=True)
class Module:
    number: int
    slug: Text
    title: Text
    intro: Text
    cells: tuple[Text | Code, ...]
    answers: tuple[str, ...]    # the variables the solution's final check asserts, in question order


SETUP = """import workbench as wb
from workbench.samples.training import TrainingCheck, open_training_case

ws = wb.open(sample=True)
me, case = open_training_case(ws)          # your own training case / uw eigen opleidingsdossier
check = TrainingCheck(case, module={n}, lang="{lang}", user=me)
case"""

SUSPECT = """hits = case.hits(include_ignored=True)
suspect = hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0]
trip = case.trajectory(suspect)"""

ARCHIVED = """cameras = case.cameras()
archived = cameras[cameras["camera_id"].isin(case.footage()["camera_id"])]"""

MODULES = [
    Module(
        1, Text("reconstituer-un-trajet", "een-traject-reconstrueren"),
        Text("Reconstituer un trajet", "Een traject reconstrueren"),
        Text("Dossier de formation, données d'exemple. Vous êtes enquêteur de la police fédérale : "
             "votre dossier voit les caméras que les partenaires prêtent pour la formation. Trouvez le "
             "véhicule volé, reconstituez le trajet du suspect et trouvez la voiture qui roule avec lui.",
             "Opleidingsdossier met voorbeeldgegevens. U bent rechercheur bij de federale politie: uw "
             "dossier ziet de camera's die de partners voor de opleiding uitlenen. Vind het gestolen "
             "voertuig, reconstrueer het traject van de verdachte en vind de wagen die met hem meerijdt."),
        (
            Text("## 1. Le véhicule volé\n\nParmi les alertes du dossier (`case.hits(include_ignored=True)`), "
                 "quelle plaque est signalée comme véhicule volé ?",
                 "## 1. Het gestolen voertuig\n\nWelke nummerplaat is bij de hits van het dossier "
                 "(`case.hits(include_ignored=True)`) gesignaleerd als gestolen voertuig?"),
            Code('hits = case.hits(include_ignored=True)\nstolen = None  {todo}\ncheck("stolen_plate", stolen)',
                 'hits = case.hits(include_ignored=True)\n'
                 'stolen = hits.loc[hits["reason"].str.contains("volé"), "plate"].iloc[0]\n'
                 'check("stolen_plate", stolen)'),
            Text("## 2. Le suspect\n\nReconstituez le trajet du suspect (`case.trajectory(suspect)`) : combien "
                 "de passages, et tous ses sauts d'une caméra à l'autre sont-ils physiquement possibles "
                 "(`trip.hops[\"plausible\"]`) ?",
                 "## 2. De verdachte\n\nReconstrueer het traject van de verdachte (`case.trajectory(suspect)`): "
                 "hoeveel doorgangen, en zijn alle sprongen van camera tot camera fysiek mogelijk "
                 "(`trip.hops[\"plausible\"]`)?"),
            Code('suspect = hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0]\n'
                 'sightings = None  {todo}\nplausible = None  {todo}\n'
                 'check("suspect_sightings", sightings), check("suspect_plausible", plausible)',
                 'suspect = hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0]\n'
                 'trip = case.trajectory(suspect)\nsightings = len(trip.sightings)\n'
                 'plausible = bool(trip.hops["plausible"].all())\n'
                 'check("suspect_sightings", sightings), check("suspect_plausible", plausible)'),
            Text("## 3. Le convoi\n\nQuelle plaque roule avec le suspect devant le plus de caméras "
                 "(`case.convoy(suspect)`) ? Moins de caméras, c'est une preuve plus faible.",
                 "## 3. Het konvooi\n\nWelke nummerplaat rijdt met de verdachte langs de meeste camera's "
                 "(`case.convoy(suspect)`)? Minder camera's betekent zwakker bewijs."),
            Code('convoy_plate = None  {todo}\ncheck("convoy_plate", convoy_plate)',
                 'convoy = case.convoy(suspect)\nconvoy_plate = convoy["plate"].iloc[0]\n'
                 'check("convoy_plate", convoy_plate)'),
        ),
        ("stolen_plate=stolen", "suspect_sightings=sightings", "suspect_plausible=plausible",
         "convoy_plate=convoy_plate"),
    ),
    Module(
        2, Text("plaques-clonees-et-erreurs-de-lecture", "gekloonde-platen-en-leesfouten"),
        Text("Plaques clonées et erreurs de lecture", "Gekloonde nummerplaten en leesfouten"),
        Text("Une lecture ANPR n'est pas un fait : la caméra confond des caractères qui se ressemblent "
             "(B/8, O/0, S/5), et une plaque peut être clonée (deux voitures, une plaque). Les deux donnent "
             "des trajets impossibles ; il faut savoir les distinguer avant d'en tirer une conclusion.",
             "Een ANPR-lezing is geen feit: de camera verwart tekens die op elkaar lijken (B/8, O/0, S/5), "
             "en een nummerplaat kan gekloond zijn (twee wagens, één plaat). Beide geven onmogelijke "
             "trajecten; u moet ze van elkaar onderscheiden voor u iets besluit."),
        (
            Text("## 1. Une erreur de lecture\n\nLe trajet du suspect fusionne les lectures de sa plaque et "
                 "celles qui lui ressemblent quand elles s'inscrivent dans son trajet. Quelle plaque a été "
                 "mal lue (colonne `plate_as_read`), et à quelle caméra ?",
                 "## 1. Een leesfout\n\nHet traject van de verdachte voegt de lezingen van zijn plaat samen "
                 "met gelijkende lezingen die in zijn traject passen. Welke plaat werd verkeerd gelezen "
                 "(kolom `plate_as_read`), en door welke camera?"),
            Code(SUSPECT + '\ntrip.sightings[["time", "camera_id", "plate", "plate_as_read", "distance", '
                 '"confidence", "merged_misread"]]'),
            Code('misread_plate = None  {todo}\nmisread_camera = None  {todo}\n'
                 'check("misread_plate", misread_plate), check("misread_camera", misread_camera)',
                 'wrong = trip.sightings[trip.sightings["merged_misread"]].iloc[0]\n'
                 'misread_plate, misread_camera = wrong["plate_as_read"], wrong["camera_id"]\n'
                 'check("misread_plate", misread_plate), check("misread_camera", misread_camera)'),
            Text("Cherchée telle quelle, la plaque mal lue n'a qu'un passage, avec une confiance basse : "
                 "ce n'est pas une autre voiture.",
                 "Zo opgezocht heeft de verkeerd gelezen plaat maar één doorgang, met een lage "
                 "betrouwbaarheid: het is geen andere wagen."),
            Code('None  {todo}: case.plate_reads(misread_plate)',
                 'case.plate_reads(misread_plate)[["time", "camera_id", "plate", "confidence"]]'),
            Text("## 2. Une plaque clonée\n\n`case.cloned_plates()` cherche les plaques vues à deux endroits "
                 "qu'aucune voiture ne relie dans le temps écoulé, sauf si une erreur de lecture l'explique. "
                 "Quelle plaque est clonée ?",
                 "## 2. Een gekloonde nummerplaat\n\n`case.cloned_plates()` zoekt platen die op twee plaatsen "
                 "gezien zijn die geen wagen in die tijd kan verbinden, tenzij een leesfout het verklaart. "
                 "Welke plaat is gekloond?"),
            Code('clones = case.cloned_plates()\nclones'),
            Code('cloned = None  {todo}\ncheck("cloned_plate", cloned)',
                 'cloned = clones["plate"].iloc[0]\n'
                 'print(case.plate_reads(cloned)[["time", "camera_id", "confidence"]])\n'
                 'check("cloned_plate", cloned)'),
        ),
        ("misread_plate=misread_plate", "misread_camera=misread_camera", "cloned_plate=cloned"),
    ),
    Module(
        3, Text("retrouver-le-suspect-dans-les-images", "de-verdachte-in-de-beelden-vinden"),
        Text("Retrouver le suspect dans les images", "De verdachte in de beelden terugvinden"),
        Text("Les lectures ANPR disent où et quand le suspect est passé ; son trajet dit devant quelles "
             "caméras d'images il a pu passer entre deux lectures, et quand. On ne regarde que ces "
             "minutes-là, sur les caméras que le dossier peut voir.",
             "De ANPR-lezingen zeggen waar en wanneer de verdachte voorbijkwam; zijn traject zegt langs "
             "welke beeldcamera's hij tussen twee lezingen kon rijden, en wanneer. We bekijken alleen die "
             "minuten, op de camera's die het dossier mag zien."),
        (
            Text("## 1. Les caméras sur le trajet\n\nParmi les caméras dont le dossier voit des images "
                 "(`archived`), lesquelles le trajet croise-t-il (`trip.cctv_windows(archived)`) ?",
                 "## 1. De camera's op het traject\n\nWelke camera's met beelden die het dossier mag zien "
                 "(`archived`) kruist het traject (`trip.cctv_windows(archived)`)?"),
            Code(SUSPECT + "\n" + ARCHIVED + '\narchived[["camera_id", "partner", "name"]]'),
            Code('footage_cameras = None  {todo}: set(...)\ncheck("footage_cameras", footage_cameras)',
                 'windows = trip.cctv_windows(archived)\nfootage_cameras = set(windows["camera_id"])\n'
                 'print(windows)\ncheck("footage_cameras", footage_cameras)'),
            Text("## 2. Le passage dans les images\n\nCherchez les véhicules en mouvement dans la fenêtre de "
                 "la première caméra (`case.frame_search(cameras=[...], since=..., until=..., "
                 "kind=\"vehicle\")`), regardez les vignettes et donnez l'heure (`best_time`) du passage "
                 "du suspect, à cinq secondes près : celui qui tombe au plus près du milieu de la fenêtre.",
                 "## 2. De doorgang in de beelden\n\nZoek de rijdende voertuigen in het venster van de "
                 "eerste camera (`case.frame_search(cameras=[...], since=..., until=..., "
                 "kind=\"vehicle\")`), bekijk de miniaturen en geef het tijdstip (`best_time`) van de "
                 "doorgang van de verdachte, tot op vijf seconden: die het dichtst bij het midden van het "
                 "venster valt."),
            Code('footage_time = None  {todo}\ncheck("footage_time", footage_time)',
                 'first = windows.iloc[0]\nfound = case.frame_search(cameras=[first["camera_id"]], '
                 'since=first["start"], until=first["end"], kind="vehicle")\n'
                 'centre = first["start"] + (first["end"] - first["start"]) / 2\n'
                 'footage_time = found.table.loc[(found.table["best_time"] - centre).abs().idxmin(), '
                 '"best_time"]\ncheck("footage_time", footage_time)'),
            Text("L'image exacte de ce moment, avec son horodatage réel :",
                 "Het exacte beeld van dat ogenblik, met zijn echte tijdstempel:"),
            Code('None  {todo}: case.frame(first["camera_id"], footage_time)',
                 'case.frame(first["camera_id"], footage_time)'),
        ),
        ("footage_cameras=footage_cameras", "footage_time=footage_time"),
    ),
    Module(
        4, Text("exporter-et-verifier-une-preuve", "bewijs-exporteren-en-controleren"),
        Text("Exporter et vérifier une preuve", "Bewijs exporteren en controleren"),
        Text("Une séquence devient une pièce du dossier : l'extrait, un manifeste (empreintes SHA-256 des "
             "segments sources et de l'extrait, dossier, utilisateur, finalité) et un enregistrement de "
             "chaîne de possession dans le journal d'audit. Une copie modifiée ne doit plus se vérifier.",
             "Een fragment wordt een stuk van het dossier: de clip, een manifest (SHA-256-vingerafdrukken "
             "van de bronsegmenten en de clip, dossier, gebruiker, doel) en een registratie van de "
             "bewaringsketen in het auditlogboek. Een gewijzigde kopie mag niet meer kloppen."),
        (
            Text("## 1. Exporter et vérifier\n\nExportez dix secondes autour du premier résultat "
                 "(`case.export_clip(hit, seconds=10)`) et vérifiez le paquet "
                 "(`case.verify_evidence(package.folder)`).",
                 "## 1. Exporteren en controleren\n\nExporteer tien seconden rond het eerste resultaat "
                 "(`case.export_clip(hit, seconds=10)`) en controleer het pakket "
                 "(`case.verify_evidence(package.folder)`)."),
            Code(SUSPECT + "\n" + ARCHIVED + '\nfirst = trip.cctv_windows(archived).iloc[0]\n'
                 'found = case.frame_search(cameras=[first["camera_id"]], since=first["start"], '
                 'until=first["end"], kind="vehicle")\nhit = found[0]\nfound'),
            Code('package = None  {todo}\ncheck("package_verified", package)',
                 'package = case.export_clip(hit, seconds=10)\nprint(case.verify_evidence(package.folder))\n'
                 'check("package_verified", package)'),
            Text("## 2. Une copie modifiée\n\nCopiez le paquet, changez un octet au milieu de l'extrait et "
                 "vérifiez la copie : elle doit échouer. Donnez le dossier de la copie.",
                 "## 2. Een gewijzigde kopie\n\nKopieer het pakket, wijzig één byte in het midden van de clip "
                 "en controleer de kopie: ze moet falen. Geef de map van de kopie."),
            Code('import shutil\nimport tempfile\nfrom pathlib import Path\n\ntampered = None  {todo}\n'
                 'check("tampered_detected", tampered)',
                 'import shutil\nimport tempfile\nfrom pathlib import Path\n\n'
                 'tampered = Path(tempfile.mkdtemp()) / package.folder.name\n'
                 'shutil.copytree(package.folder, tampered)\n'
                 'clip = next(p for p in tampered.iterdir() if p.name.startswith("clip-"))\n'
                 'data = bytearray(clip.read_bytes())\ndata[len(data) // 2] ^= 0xFF\n'
                 'clip.write_bytes(bytes(data))\nprint(case.verify_evidence(tampered))\n'
                 'check("tampered_detected", tampered)'),
            Text("## 3. La chaîne de possession\n\nDans votre journal (`case.audit_trail(limit=1000)`), quelle "
                 "action enregistre l'empreinte du manifeste (`manifest_sha256` dans `resource`) ?",
                 "## 3. De bewaringsketen\n\nWelke actie in uw logboek (`case.audit_trail(limit=1000)`) legt de "
                 "vingerafdruk van het manifest vast (`manifest_sha256` in `resource`)?"),
            Code('trail = case.audit_trail(limit=1000)\ncustody_action = None  {todo}\n'
                 'check("custody_action", custody_action)',
                 'trail = case.audit_trail(limit=1000)\n'
                 'custody = trail[trail["resource"].map(lambda r: "manifest_sha256" in r)]\n'
                 'custody_action = custody["action"].iloc[-1]\nprint(custody[["time", "action", "resource"]])\n'
                 'check("custody_action", custody_action)'),
        ),
        ("package_verified=package", "tampered_detected=tampered", "custody_action=custody_action"),
    ),
    Module(
        5, Text("cadre-legal", "wettelijk-kader"),
        Text("Le cadre légal : ce que le dossier ne peut pas voir", "Het wettelijk kader: wat het dossier "
             "niet mag zien"),
        Text("Chaque lecture passe par la règle d'accès : un accord de partage actif, qui couvre le type de "
             "données et la finalité du dossier, un dossier ouvert, la durée de conservation ou une saisie. "
             "Chaque refus est motivé et journalisé — y compris les vôtres.",
             "Elke lezing gaat langs de toegangsregel: een actieve deelovereenkomst voor het soort gegevens "
             "en het doel van het dossier, een open dossier, de bewaartermijn of een inbeslagname. Elke "
             "weigering is gemotiveerd en gelogd — ook de uwe."),
        (
            Text("## 1. Les caméras refusées\n\nCombien de caméras ce dossier ne peut-il pas voir "
                 "(`case.camera_access()`, colonne `granted`) ? Lisez les raisons.",
                 "## 1. De geweigerde camera's\n\nHoeveel camera's mag dit dossier niet zien "
                 "(`case.camera_access()`, kolom `granted`)? Lees de redenen."),
            Code('access = case.camera_access()\n'
                 'access.loc[~access["granted"], ["partner", "data", "reason"]].drop_duplicates()'),
            Code('refused_cameras = None  {todo}\ncheck("refused_cameras", refused_cameras)',
                 'refused_cameras = int((~access["granted"]).sum())\ncheck("refused_cameras", refused_cameras)'),
            Text("Demander quand même une caméra refusée : le refus est motivé et inscrit au journal.",
                 "Toch een geweigerde camera vragen: de weigering is gemotiveerd en komt in het logboek."),
            Code('from workbench.errors import AccessDenied\n\n'
                 'refused = access.loc[~access["granted"] & (access["data"] == "plates"), "camera_id"].iloc[0]\n'
                 'try:\n    case.sightings(cameras=[refused])\nexcept AccessDenied as refusal:\n'
                 '    print("{refused}", refusal)'),
            Text("## 2. L'accord expiré\n\nUne des raisons nomme un accord expiré : quelle est sa référence ?",
                 "## 2. De verlopen overeenkomst\n\nEén van de redenen noemt een verlopen overeenkomst: wat is "
                 "haar referentie?"),
            Code('expired_agreement = None  {todo}\ncheck("expired_agreement", expired_agreement)',
                 'expired_agreement = access["reason"].str.extract(r"agreement (\\S+) is expired", '
                 'expand=False).dropna().iloc[0]\ncheck("expired_agreement", expired_agreement)'),
            Text("## 3. Le dossier clôturé\n\nVos dossiers (`me.cases()`) : l'un est clôturé. Essayez de "
                 "l'ouvrir (`me.open_case(..., purpose=\"training\")`) : quel dossier est refusé ?",
                 "## 3. Het afgesloten dossier\n\nUw dossiers (`me.cases()`): één is afgesloten. Probeer het "
                 "te openen (`me.open_case(..., purpose=\"training\")`): welk dossier wordt geweigerd?"),
            Code('me.cases()'),
            Code('closed_case = None  {todo}\ncheck("closed_case", closed_case)',
                 'cases = me.cases()\nclosed_case = cases.loc[cases["status"] == "closed", "reference"].iloc[0]\n'
                 'try:\n    me.open_case(closed_case, purpose="training")\nexcept AccessDenied as refusal:\n'
                 '    print("{refused}", refusal)\ncheck("closed_case", closed_case)'),
            Text("## 4. Une saisie (hold)\n\nLes images ne sont gardées que le temps de conservation du "
                 "partenaire, sauf saisie pour un dossier. Saisissez la minute autour du premier passage du "
                 "suspect, sur sa caméra (`case.place_hold(camera, start, end, reason=...)`), et donnez "
                 "la caméra saisie.",
                 "## 4. Een inbeslagname (hold)\n\nBeelden worden maar bewaard zolang de bewaartermijn van de "
                 "partner, tenzij ze in beslag genomen zijn voor een dossier. Neem de minuut rond de eerste "
                 "doorgang van de verdachte in beslag, op zijn camera (`case.place_hold(camera, start, end, "
                 "reason=...)`), en geef de camera."),
            Code(SUSPECT + '\nfirst = trip.sightings.iloc[0]\nfirst[["time", "camera_id"]]'),
            Code('hold_camera = None  {todo}\ncheck("hold_camera", hold_camera)',
                 'import pandas as pd\n\nminute = pd.Timedelta(minutes=1)\n'
                 'case.place_hold(first["camera_id"], first["time"] - minute, first["time"] + minute,\n'
                 '                reason="Formation : saisie du premier passage / Opleiding")\n'
                 'hold_camera = first["camera_id"]\ncheck("hold_camera", hold_camera)'),
            Text("## 5. Votre propre journal\n\nTout ce que vous avez fait ici est dans le journal d'audit "
                 "(`case.audit_trail(limit=1000)`). Combien de refus (`outcome == \"denied\"`) y voyez-vous "
                 "pour ce dossier ?",
                 "## 5. Uw eigen logboek\n\nAlles wat u hier deed staat in het auditlogboek "
                 "(`case.audit_trail(limit=1000)`). Hoeveel weigeringen (`outcome == \"denied\"`) ziet u voor "
                 "dit dossier?"),
            Code('trail = case.audit_trail(limit=1000)\n'
                 'trail[["time", "action", "outcome", "result_count", "reason"]].tail(15)'),
            Code('own_refusals = None  {todo}\ncheck("own_refusals", own_refusals)',
                 'own_refusals = int((trail["outcome"] == "denied").sum())\ncheck("own_refusals", own_refusals)'),
        ),
        ("refused_cameras=refused_cameras", "expired_agreement=expired_agreement", "closed_case=closed_case",
         "hold_camera=hold_camera", "own_refusals=own_refusals"),
    ),
]


def _cell(kind: str, text: str) -> dict:
    lines = text.splitlines(keepends=True)
    cell: dict = {"cell_type": kind, "metadata": {}, "source": lines}
    if kind == "code":
        cell.update(execution_count=None, outputs=[])
    return cell


def notebook(module: Module, lang: str, solution: bool) -> dict:
    """The notebook of ``module`` in ``lang`` (``fr`` or ``nl``), as exercises or as the solution."""
    title, intro = getattr(module.title, lang), getattr(module.intro, lang)
    how = {"fr": "Répondez dans les cellules marquées `# À COMPLÉTER` ; `check(...)` vous dit si c'est juste "
                 "(et l'inscrit au journal, où votre formateur le lit).",
           "nl": "Antwoord in de cellen gemarkeerd met `# AAN TE VULLEN`; `check(...)` zegt of het juist is "
                 "(en schrijft het in het logboek, waar uw opleider het leest)."}[lang]
    heading = {"fr": "Formation", "nl": "Opleiding"}[lang]
    flag = {"fr": " — solution", "nl": " — oplossing"}[lang] if solution else ""
    cells = [_cell("markdown", f"# {heading} {module.number} — {title}{flag}\n\n{intro}\n\n{how}"),
             _cell("code", SETUP.format(n=module.number, lang=lang))]
    for part in module.cells:
        if isinstance(part, Text):
            cells.append(_cell("markdown", getattr(part, lang)))
        else:
            code = part.solution if solution and part.solution is not None else part.exercise
            cells.append(_cell("code", code.replace("{todo}", TODO[lang]).replace("{refused}", REFUSED[lang])))
    if solution:
        pairs = ", ".join(f'("{a.split("=")[0]}", {a.split("=")[1]})' for a in module.answers)
        cells.append(_cell("code", f"assert all(check(q, v) for q, v in [{pairs}])"))
    return {"cells": cells, "metadata": {
        "kernelspec": {"display_name": "Workbench (audited)", "language": "python", "name": "workbench-audited"},
        "language_info": {"name": "python"}}, "nbformat": 4, "nbformat_minor": 5}


def course_files() -> dict[Path, str]:
    """Every notebook of the course: path -> JSON text."""
    files = {}
    for module in MODULES:
        for lang in ("fr", "nl"):
            name = f"{module.number:02d}-{getattr(module.slug, lang)}.ipynb"
            for solution, folder in ((False, HERE / lang), (True, HERE / "solutions" / lang)):
                nb = notebook(module, lang, solution)
                for n, cell in enumerate(nb["cells"]):
                    cell["id"] = f"m{module.number}-{lang}-{n:02d}"
                files[folder / name] = json.dumps(nb, indent=1, ensure_ascii=False) + "\n"
    return files


def main() -> None:
    for path, text in course_files().items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        print(path.relative_to(HERE))


if __name__ == "__main__":
    sys.exit(main())
