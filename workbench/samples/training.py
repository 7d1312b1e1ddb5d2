"""Self-checking exercises of the training course: the expected answers come from the trainee's case.

    >>> me, case = open_training_case(ws)                 # doctest: +SKIP
    >>> check = TrainingCheck(case, module=1, lang="nl")  # doctest: +SKIP
    >>> check("stolen_plate", "7BXX035")                  # doctest: +SKIP
    ✔ Nummerplaat gesignaleerd als gestolen voertuig: juist

Nothing is hard-coded and no file is read: the checker asks the trainee's own
case, through the same audited API, what the trainee was asked to find, so the
exercises follow every variant of the training world (``workbench sample build
--training --seed N``). Each check writes its result to the audit trail
(``training-check``), where the trainer's view (:func:`class_progress`) reads
who finished which exercise and where they went wrong.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from workbench.errors import AccessDenied, InvalidInput, NotFound, WorkbenchError
from workbench.evidence.package import MANIFEST, PackageFiles
from workbench.plates import normalise
from workbench.timeutil import as_utc

TIME_TOLERANCE_S = 5.0


@dataclass(frozen=True)
class Question:
    """One exercise: its wording in French and Dutch, the module it belongs to, how its answer is judged."""

    module: int
    fr: str
    nl: str
    kind: str = "exact"    # exact, plate, set, time, package, tampered


QUESTIONS: dict[str, Question] = {
    # 1. trace a vehicle
    "stolen_plate": Question(1, "Plaque signalée comme véhicule volé", "Nummerplaat gesignaleerd als gestolen voertuig",
                             "plate"),
    "suspect_sightings": Question(1, "Nombre de passages du suspect", "Aantal doorgangen van de verdachte"),
    "suspect_plausible": Question(1, "Tous les sauts du suspect sont-ils possibles ?",
                                  "Zijn alle sprongen van de verdachte mogelijk?"),
    "convoy_plate": Question(1, "Plaque qui roule avec le suspect au plus de caméras",
                             "Nummerplaat die met de verdachte rijdt langs de meeste camera's", "plate"),
    # 2. cloned plates and misreads
    "misread_plate": Question(2, "Plaque mal lue dans le trajet du suspect", "Verkeerd gelezen nummerplaat in het "
                              "traject van de verdachte", "plate"),
    "misread_camera": Question(2, "Caméra de la lecture erronée", "Camera van de verkeerde lezing"),
    "cloned_plate": Question(2, "Plaque clonée", "Gekloonde nummerplaat", "plate"),
    # 3. the suspect in the footage
    "footage_cameras": Question(3, "Caméras d'images sur le trajet du suspect",
                                "Beeldcamera's op het traject van de verdachte", "set"),
    "footage_time": Question(3, "Heure du passage du suspect dans les images",
                             "Tijdstip van de doorgang van de verdachte in de beelden", "time"),
    # 4. evidence
    "package_verified": Question(4, "Extrait exporté et vérifié", "Fragment geëxporteerd en gecontroleerd", "package"),
    "tampered_detected": Question(4, "Copie modifiée détectée", "Gewijzigde kopie ontdekt", "tampered"),
    "custody_action": Question(4, "Action du journal qui enregistre la chaîne de possession",
                               "Actie in het logboek die de bewaringsketen vastlegt"),
    # 5. the legal limits
    "refused_cameras": Question(5, "Nombre de caméras refusées à ce dossier",
                                "Aantal camera's geweigerd voor dit dossier"),
    "expired_agreement": Question(5, "Référence de l'accord expiré", "Referentie van de verlopen overeenkomst"),
    "closed_case": Question(5, "Dossier clôturé que vous ne pouvez plus ouvrir",
                            "Afgesloten dossier dat u niet meer kunt openen"),
    "hold_camera": Question(5, "Caméra saisie (hold) au premier passage du suspect",
                            "Camera in beslag genomen (hold) bij de eerste doorgang van de verdachte"),
    "own_refusals": Question(5, "Refus dans votre propre journal pour ce dossier",
                             "Weigeringen in uw eigen logboek voor dit dossier"),
}
MODULES: dict[int, list[str]] = {}
for _name, _question in QUESTIONS.items():
    MODULES.setdefault(_question.module, []).append(_name)

_WORDS = {
    "fr": {"right": "correct", "wrong": "pas encore", "blank": "pas encore répondu", "sep": " :"},
    "nl": {"right": "juist", "wrong": "nog niet", "blank": "nog niet beantwoord", "sep": ":"},
}


def open_training_case(ws: Any, user: str | None = None) -> tuple[Any, Any]:
    """Log in (as ``user`` or the JupyterHub / WORKBENCH_USER identity) and open one's open training case.

    Returns the user session and the case. A user with no open training case
    gets a clear refusal naming what to do.
    """
    me = ws.login(user)
    cases = me.cases()
    mine = cases[cases["training"] & (cases["status"] == "open")]
    if mine.empty:
        raise AccessDenied(f"{me.user.name} is a member of no open training case: log in as a trainee "
                           "(WORKBENCH_USER=trainee.01 after `workbench sample build --training`) "
                           "or as inspector.vermeulen")
    return me, me.open_case(str(mine["reference"].iloc[-1]), purpose="training")


class TrainingKey:
    """What a training case says: the answer it expects to each exercise, and the judgement of an answer.

    The workbench judges with it where the case lives (:meth:`~workbench.workspace.Case.check_training`: in
    the service when served), so that a trainee cannot record a right answer they did not give. ``user`` is
    the trainee's session (the legal module asks it which of their cases are closed).

    >>> TrainingKey(case).judge("stolen_plate", "7-BXX-035")     # doctest: +SKIP
    True
    """

    def __init__(self, case: Any, user: Any = None) -> None:
        self.case, self.user = case, user
        self._answers: dict[str, Any] = {}

    # -- what the case says ---------------------------------------------------------------------------
    def _hit_plate(self, words: str) -> str:
        hits = self.case.hits(include_ignored=True)
        return str(hits.loc[hits["reason"].str.contains(words, case=False), "plate"].iloc[0])

    def _trip(self) -> Any:
        if "_trip" not in self._answers:
            self._answers["_trip"] = self.case.trajectory(self._hit_plate("suspect"))
        return self._answers["_trip"]

    def _footage_windows(self) -> pd.DataFrame:
        archived = set(self.case.footage()["camera_id"])
        cams = self.case.cameras()
        windows = self._trip().cctv_windows(pd.DataFrame(cams[cams["camera_id"].isin(archived)]))
        return windows.drop_duplicates("camera_id").reset_index(drop=True)

    def _footage_time(self) -> pd.Timestamp:
        first = self._footage_windows().iloc[0]
        found = self.case.frame_search(cameras=[first["camera_id"]], since=first["start"], until=first["end"],
                                       kind="vehicle", thumbnails=False, per_page=100).table
        if found.empty:
            raise NotFound(f"no moving vehicle in the footage of {first['camera_id']} along the trajectory")
        centre = first["start"] + (first["end"] - first["start"]) / 2
        return found.loc[(found["best_time"] - centre).abs().idxmin(), "best_time"]

    def _trail(self) -> pd.DataFrame:
        return self.case.audit_trail(limit=1000)

    def _closed_case(self) -> str:
        if self.user is None:
            raise InvalidInput("this question needs the trainee's session: TrainingCheck(case, 5, user=me)")
        cases = self.user.cases()
        return str(cases.loc[cases["training"] & (cases["status"] == "closed"), "reference"].iloc[0])

    def _hold_camera(self) -> str:
        return str(self._trip().sightings["camera_id"].iloc[0])

    def _expired_agreement(self) -> str:
        reasons = self.case.camera_access()["reason"]
        found = reasons.str.extract(r"agreement (\S+) is expired", expand=False).dropna()
        return str(found.iloc[0])

    def _custody_action(self) -> str:
        trail = self._trail()
        custody = trail[trail["resource"].map(lambda r: isinstance(r, dict) and "manifest_sha256" in r)]
        return str(custody["action"].iloc[-1])

    def _expectations(self) -> dict[str, Callable[[], Any]]:
        def misread() -> pd.Series:
            sightings = self._trip().sightings
            return sightings[sightings["merged_misread"]].iloc[0]

        return {
            "stolen_plate": lambda: self._hit_plate("volé"),
            "suspect_sightings": lambda: len(self._trip().sightings),
            "suspect_plausible": lambda: bool(self._trip().hops["plausible"].all()),
            "convoy_plate": lambda: str(self.case.convoy(self._hit_plate("suspect"))["plate"].iloc[0]),
            "misread_plate": lambda: str(misread()["plate_as_read"]),
            "misread_camera": lambda: str(misread()["camera_id"]),
            "cloned_plate": lambda: str(self.case.cloned_plates()["plate"].iloc[0]),
            "footage_cameras": lambda: set(self._footage_windows()["camera_id"]),
            "footage_time": self._footage_time,
            "package_verified": lambda: True,
            "tampered_detected": lambda: True,
            "custody_action": self._custody_action,
            "refused_cameras": lambda: int((~self.case.camera_access()["granted"]).sum()),
            "expired_agreement": self._expired_agreement,
            "closed_case": self._closed_case,
            "hold_camera": self._hold_camera,
            "own_refusals": lambda: int((self._trail()["outcome"] == "denied").sum()),
        }

    _LIVE = frozenset({"custody_action", "own_refusals"})   # they change as the trainee works: never cached

    def expected(self, question: str) -> Any:
        """The answer the case gives to ``question`` (one of :data:`QUESTIONS`)."""
        if question not in QUESTIONS:
            raise KeyError(f"unknown question {question!r}: one of {', '.join(QUESTIONS)}")
        if question in self._LIVE:
            return self._expectations()[question]()
        if question not in self._answers:
            self._answers[question] = self._expectations()[question]()
        return self._answers[question]

    # -- judging ---------------------------------------------------------------------------------------
    def _package_ok(self, answer: Any, *, tampered: bool) -> bool:
        if not isinstance(answer, PackageFiles):   # a path is never read where the case is judged
            return False
        try:
            manifest = json.loads(answer.files[MANIFEST].decode("utf-8"))
        except (ValueError, KeyError, TypeError, AttributeError):
            return False
        if not isinstance(manifest, dict) or not isinstance(manifest.get("case"), dict) \
                or manifest["case"].get("reference") != self.case.reference:
            return False
        verified = self.case.verify_evidence(answer).ok
        return not verified if tampered else verified

    def _hold_placed(self, camera: str) -> bool:
        trail = self._trail()
        holds = trail[(trail["action"] == "place-hold") & (trail["outcome"] == "ok")]
        return any(isinstance(r, dict) and r.get("camera") == camera for r in holds["resource"])

    def judge(self, question: str, answer: Any) -> bool:
        """Whether ``answer`` (not None) is the right answer to ``question`` in this case (a package
        exercise's answer: the package's files, :func:`package_copy`)."""
        kind = QUESTIONS[question].kind
        if kind in ("package", "tampered"):
            return self._package_ok(answer, tampered=kind == "tampered")
        expected = self.expected(question)
        if kind == "plate":
            return isinstance(answer, str) and normalise(answer) == normalise(str(expected))
        if kind == "set":
            try:
                return not isinstance(answer, str) and {str(a) for a in answer} == expected
            except TypeError:   # not a collection
                return False
        if kind == "time":
            try:
                return abs((as_utc(answer) - as_utc(expected)).total_seconds()) <= TIME_TOLERANCE_S
            except (TypeError, ValueError, WorkbenchError):
                return False
        if isinstance(expected, str):
            right = isinstance(answer, str) and answer.strip().upper() == expected.upper()
        else:
            right = type(answer) is not str and answer == expected
        if right and question == "hold_camera":
            right = self._hold_placed(expected)
        return bool(right)


def package_copy(answer: Any) -> PackageFiles:
    """A package answer (an exported package or its folder) as the bytes of its files, to be judged where the
    case lives."""
    return PackageFiles.read(Path(getattr(answer, "folder", answer)))


class TrainingCheck:
    """Check a trainee's answers against what their (training) case says, and record each result.

    ``module`` picks the exercises (1 to 5; None: any), ``lang`` the language
    of the messages (``fr`` or ``nl``), ``user`` the trainee's session (the
    legal module asks it which of their cases are closed: :meth:`expected`).
    Each answer is sent to the case (:meth:`~workbench.workspace.Case.check_training`), which judges it
    against its own key and records the result: the check only prints what the case decided.
    """

    def __init__(self, case: Any, module: int | None = None, *, lang: str = "fr", user: Any = None) -> None:
        if lang not in _WORDS:
            raise InvalidInput(f"unknown language {lang!r}: fr or nl")
        self.case, self.module, self.lang, self.user = case, module, lang, user
        self.key = TrainingKey(case, user)

    def expected(self, question: str) -> Any:
        """The answer the case gives to ``question`` (one of :data:`QUESTIONS`)."""
        return self.key.expected(question)

    def __call__(self, question: str, answer: Any) -> bool:
        """Print whether ``answer`` is right (``None``: not answered yet), as the case judged and recorded it;
        return it as a bool."""
        if question not in QUESTIONS:
            raise KeyError(f"unknown question {question!r}: one of {', '.join(QUESTIONS)}")
        q, words = QUESTIONS[question], _WORDS[self.lang]
        if self.module is not None and q.module != self.module:
            raise InvalidInput(f"{question!r} belongs to module {q.module}, not {self.module}")
        label = q.fr if self.lang == "fr" else q.nl
        if answer is not None and q.kind in ("package", "tampered"):
            try:   # the package's files travel with the answer: the case checks them where it lives
                answer = package_copy(answer)
            except (OSError, WorkbenchError):
                answer = shown(answer)   # not a package folder: judged (wrong) by its name
        right = self.case.check_training(question, answer)
        mark = "✔" if right else ("✘" if answer is not None else "…")
        print(f"{mark} {label}{words['sep']} {words['right' if right else 'wrong' if answer is not None else 'blank']}")
        return right


def shown(answer: Any) -> str:
    """A short text of an answer, for the audit trail (a package by its folder name)."""
    if isinstance(answer, PackageFiles):
        return answer.name[:120]
    if hasattr(answer, "folder"):
        answer = answer.folder
    text = Path(answer).name if isinstance(answer, Path) else str(sorted(answer) if isinstance(answer, set) else answer)
    return text[:120]


def class_progress(results: pd.DataFrame) -> pd.DataFrame:
    """Per trainee and module: questions right, wrong attempts, still open, finished, and the wrong answers.

    ``results`` is what ``UserSession.training_results()`` returns (the
    training checks read from the audit trail). A question counts as right once
    it was answered right; wrong answers are listed as ``question=answer``.
    """
    columns = ["trainee", "case", "module", "right", "questions", "wrong_attempts", "open", "finished", "wrong"]
    if results.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (trainee, case, module), group in results.groupby(["user_name", "case_reference", "module"], sort=True):
        asked = MODULES.get(int(module), [])
        right = set(group.loc[group["correct"], "question"])
        wrong = group[group["answered"] & ~group["correct"]]
        rows.append({"trainee": trainee, "case": case, "module": int(module), "right": len(right & set(asked)),
                     "questions": len(asked), "wrong_attempts": len(wrong),
                     "open": ", ".join(q for q in asked if q not in right), "finished": set(asked) <= right,
                     "wrong": "; ".join(f"{q}={a}" for q, a in zip(wrong["question"], wrong["answer"]))})
    return pd.DataFrame(rows, columns=columns)


def finished_modules(progress: pd.DataFrame) -> pd.DataFrame:
    """A trainee x module grid of ✔ (finished), a count ``right/questions`` or blank (not started)."""
    if progress.empty:
        return pd.DataFrame()
    cells = progress.assign(cell=[("✔" if f else f"{r}/{q}") for f, r, q in
                                  zip(progress["finished"], progress["right"], progress["questions"])])
    return cells.pivot(index="trainee", columns="module", values="cell").fillna("")

