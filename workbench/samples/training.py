"""Self-checking exercises for the training case: the expected answers come from the case itself.

    >>> check = TrainingCheck(case)                      # doctest: +SKIP
    >>> check("stolen_plate", "7BXX035")                 # doctest: +SKIP
    ✔ Véhicule volé : correct / juist

Nothing is hard-coded: the checker asks the same case, through the same
audited API, what the trainee was asked to find, so the exercises follow the
sample world wherever it is rebuilt.
"""

from __future__ import annotations

from typing import Any

QUESTIONS: dict[str, tuple[str, str]] = {
    "stolen_plate": ("Plaque signalée comme véhicule volé", "Nummerplaat gesignaleerd als gestolen voertuig"),
    "suspect_sightings": ("Nombre de passages du suspect", "Aantal doorgangen van de verdachte"),
    "suspect_plausible": ("Tous les sauts du suspect sont-ils possibles ?",
                          "Zijn alle sprongen van de verdachte mogelijk?"),
    "convoy_plate": ("Plaque qui roule avec le suspect au plus de caméras",
                     "Nummerplaat die met de verdachte rijdt langs de meeste camera's"),
}


class TrainingCheck:
    """Check a trainee's answers against what the open (training) case says."""

    def __init__(self, case: Any) -> None:
        self.case = case
        self._answers: dict[str, Any] = {}

    def _hit_plate(self, words: str) -> str:
        hits = self.case.hits(include_ignored=True)
        return str(hits.loc[hits["reason"].str.contains(words, case=False), "plate"].iloc[0])

    def expected(self, question: str) -> Any:
        """The answer the case gives to ``question`` (one of :data:`QUESTIONS`)."""
        if question not in QUESTIONS:
            raise KeyError(f"unknown question {question!r}: one of {', '.join(QUESTIONS)}")
        if question not in self._answers:
            if question == "stolen_plate":
                value: Any = self._hit_plate("volé")
            else:
                suspect = self._hit_plate("suspect")
                if question == "convoy_plate":
                    value = str(self.case.convoy(suspect)["plate"].iloc[0])
                else:
                    trip = self.case.trajectory(suspect)
                    value = len(trip.sightings) if question == "suspect_sightings" else \
                        bool(trip.hops["plausible"].all())
            self._answers[question] = value
        return self._answers[question]

    def __call__(self, question: str, answer: Any) -> bool:
        """Print whether ``answer`` is right (``None``: not answered yet) and return it as a bool."""
        fr, nl = QUESTIONS[question]
        if answer is None:
            print(f"… {fr} : pas encore répondu / {nl}: nog niet beantwoord")
            return False
        right = answer == self.expected(question) if not isinstance(answer, str) else \
            answer.replace("-", "").upper() == str(self.expected(question)).replace("-", "").upper()
        print(f"{'✔' if right else '✘'} {fr} : {'correct / juist' if right else 'pas encore / nog niet'}")
        return right
