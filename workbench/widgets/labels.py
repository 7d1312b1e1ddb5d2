"""The words of the widgets and apps in French, Dutch and English.

    >>> from workbench.widgets.labels import text
    >>> text("search", "nl")
    'Zoeken'

The language is ``Settings.lang``: the app's address (``?lang=nl``), then
``WORKBENCH_LANG``, then French.
"""

from __future__ import annotations

from workbench import errors
from workbench.config import LANGUAGES

_TEXT: dict[str, tuple[str, str, str]] = {
    # key: (fr, nl, en)
    "case": ("Dossier", "Dossier", "Case"),
    "no_case": ("Aucun dossier ouvert que vous puissiez consulter.", "Geen open dossier dat u mag raadplegen.",
                "No open case you may consult."),
    "user": ("Utilisateur", "Gebruiker", "User"),
    "plate": ("Plaque", "Nummerplaat", "Plate"),
    "search": ("Chercher", "Zoeken", "Search"),
    "suggestions": ("Vouliez-vous dire :", "Bedoelde u:", "Did you mean:"),
    "no_sighting": ("Aucun passage pour cette plaque dans ce que le dossier peut voir.",
                    "Geen doorgang voor deze nummerplaat in wat het dossier mag zien.",
                    "No sighting of this plate in what the case may see."),
    "sightings": ("passages", "doorgangen", "sightings"),
    "trips": ("déplacements", "verplaatsingen", "trips"),
    "unplaced": ("Passages à des caméras sans position, absents de la carte :",
                 "Doorgangen aan camera's zonder positie, niet op de kaart:",
                 "Sightings at cameras without a position, not on the map:"),
    "timeline": ("Chronologie", "Tijdlijn", "Timeline"),
    "camera": ("Caméra", "Camera", "Camera"),
    "time": ("Heure (Bruxelles)", "Tijd (Brussel)", "Time (Brussels)"),
    "previous_key": ("◀ image clé", "◀ sleutelbeeld", "◀ keyframe"),
    "next_key": ("image clé ▶", "sleutelbeeld ▶", "keyframe ▶"),
    "offset": ("Décalage (s)", "Verschuiving (s)", "Offset (s)"),
    "synchronised": ("Vues synchronisées", "Gesynchroniseerde beelden", "Synchronised views"),
    # playback, the case report, bookmarks and saved searches
    "playback": ("Lecture synchronisée", "Gesynchroniseerd afspelen", "Synchronised playback"),
    "play": ("Lire", "Afspelen", "Play"),
    "pause": ("Pause", "Pauze", "Pause"),
    "scrub": ("Position dans l'extrait", "Positie in de clip", "Position in the clip"),
    "unzoom": ("Image entière", "Heel beeld", "Whole picture"),
    "zoom_hint": ("Tracez un rectangle sur une image pour l'agrandir ; double-clic pour revenir.",
                  "Trek een rechthoek op een beeld om het te vergroten; dubbelklik om terug te gaan.",
                  "Drag a rectangle on a picture to enlarge it; double-click to go back."),
    "brussels_zone": ("(heure de Bruxelles)", "(Brusselse tijd)", "(Brussels time)"),
    "play_clip": ("▶ Lire l'extrait", "▶ Clip afspelen", "▶ Play the clip"),
    "report_pdf": ("Rapport PDF", "PDF-rapport", "PDF report"),
    "report_ready": ("Rapport prêt :", "Rapport klaar:", "Report ready:"),
    "bookmark": ("Signet", "Bladwijzer", "Bookmark"),
    "bookmark_add": ("Ajouter un signet", "Bladwijzer toevoegen", "Add a bookmark"),
    "bookmark_saved": ("Signet enregistré. Lien pour les collègues du dossier :",
                       "Bladwijzer bewaard. Link voor de collega's van het dossier:",
                       "Bookmark saved. Link for colleagues on the case:"),
    "bookmarks": ("Signets et recherches du dossier", "Bladwijzers en zoekopdrachten van het dossier",
                  "Bookmarks and searches of the case"),
    "note": ("Note", "Notitie", "Note"),
    "save_search": ("Enregistrer la recherche", "Zoekopdracht bewaren", "Save the search"),
    "opened_bookmark": ("Ouvert depuis le signet", "Geopend vanuit de bladwijzer", "Opened from the bookmark"),
    "open": ("Ouvrir", "Openen", "Open"),
    "route_footage": ("Images le long du trajet", "Beelden langs het traject", "Footage along the route"),
    "no_route_footage": ("Aucune caméra de ce dossier n'a d'images le long de ce trajet.",
                         "Geen camera van dit dossier heeft beelden langs dit traject.",
                         "No camera of this case has footage along this route."),
    "no_frame": ("Pas d'image à cet instant.", "Geen beeld op dit moment.", "No frame at this time."),
    "colour": ("Couleur", "Kleur", "Colour"),
    "kind": ("Type", "Soort", "Kind"),
    "direction": ("Sens", "Richting", "Direction"),
    "any": ("(tous)", "(alle)", "(any)"),
    "cameras": ("Caméras", "Camera's", "Cameras"),
    "since": ("Depuis", "Vanaf", "Since"),
    "until": ("Jusqu'à", "Tot", "Until"),
    "hits": ("résultats", "resultaten", "hits"),
    "page": ("Page", "Pagina", "Page"),
    "show": ("Voir", "Bekijken", "Show"),
    "priority": ("Priorité", "Prioriteit", "Priority"),
    "decision": ("Décision", "Beslissing", "Decision"),
    "include_ignored": ("Montrer aussi les alertes ignorées", "Ook genegeerde alerts tonen",
                        "Also show ignored hits"),
    "act": ("agir", "optreden", "act"),
    "ignore": ("ignorer", "negeren", "ignore"),
    "reason": ("Motif", "Reden", "Reason"),
    "zone": ("Zone", "Zone", "Zone"),
    "hits_by_priority": ("Alertes par priorité et par zone", "Alerts per prioriteit en zone",
                         "Hits by priority and zone"),
    "footage_requests": ("Demandes d'images et dossiers aidés", "Beeldaanvragen en geholpen dossiers",
                         "Footage requests and cases helped"),
    "accesses_by_partner": ("Accès par partenaire", "Toegangen per partner", "Accesses per partner"),
    "coverage": ("Couverture des caméras et lieux des alertes", "Camerabereik en plaatsen van de alerts",
                 "Camera coverage and where hits happen"),
    "hits_by_place": ("Alertes par lieu", "Alerts per plaats", "Hits by place"),
    "hits_total": ("alertes", "alerts", "hits"),
    "footage_requests_total": ("demandes d'images", "beeldaanvragen", "footage requests"),
    "cases_helped": ("dossiers aidés", "geholpen dossiers", "cases helped"),
    "accesses": ("accès", "toegangen", "accesses"),
    "refused": ("refus", "weigeringen", "refused"),
    "requests": ("demandes", "aanvragen", "requests"),
    "evidence_packages": ("paquets de preuve", "bewijspakketten", "evidence packages"),
    "helped": ("aidé", "geholpen", "helped"),
    "partner": ("partenaire", "partner", "partner"),
    "granted": ("accordés", "toegestaan", "granted"),
    "denied": ("refusés", "geweigerd", "denied"),
    "errors": ("erreurs", "fouten", "errors"),
    "sightings_map": ("Carte des passages", "Kaart van de doorgangen", "Sightings map"),
    "frame_search": ("Recherche dans les images", "Zoeken in de beelden", "Frame search"),
    "hit_triage": ("Tri des alertes", "Triage van de alerts", "Hit triage"),
    "indicators": ("Indicateurs", "Indicatoren", "Indicators"),
    "error": ("Impossible :", "Onmogelijk:", "Not possible:"),
    "working": ("Recherche en cours…", "Bezig met zoeken…", "Searching…"),
    "keyframe": ("image clé", "sleutelbeeld", "keyframe"),
    "detail": ("détail", "detail", "detail"),
    # progress of a page's steps
    "step_sightings": ("Passages et trajet de la plaque…", "Doorgangen en traject van de plaat…",
                       "The plate's sightings and route…"),
    "step_blind": ("Caméras que le dossier ne peut pas voir…", "Camera's die het dossier niet mag zien…",
                   "Cameras the case may not see…"),
    "step_map": ("Dessin de la carte…", "Kaart tekenen…", "Drawing the map…"),
    "step_hits": ("Lecture des alertes…", "Alerts lezen…", "Reading the hits…"),
    "step_search": ("Recherche en cours…", "Bezig met zoeken…", "Searching…"),
    # what the data says about a trajectory
    "note_clone": ("plaque clonée suspectée (saut impossible)", "vermoedelijk gekloonde plaat (onmogelijke sprong)",
                   "suspected cloned plate (impossible hop)"),
    "note_misread": ("lecture erronée rattachée, lue", "verkeerde lezing toegevoegd, gelezen als",
                     "misread merged, read as"),
    "finding": ("Constat", "Vaststelling", "Finding"),
    "as_read": ("Lue", "Gelezen", "As read"),
    "excluded": ("Hors de l'image", "Buiten beeld", "Left out"),
    "nothing_excluded": ("Rien n'est exclu : toutes les caméras le long du trajet sont visibles.",
                         "Niets uitgesloten: alle camera's langs het traject zijn zichtbaar.",
                         "Nothing left out: every camera along the route is visible."),
    "excl_blind-spot": ("caméra(s) le long du trajet que le dossier ne peut pas voir (angles morts)",
                        "camera('s) langs het traject die het dossier niet mag zien (dode hoeken)",
                        "camera(s) along the route the case may not see (blind spots)"),
    "excl_rejected-read": ("lecture(s) proche(s) écartée(s) : ne collent pas au trajet",
                           "gelijkaardige lezing(en) weggelaten: passen niet in het traject",
                           "look-alike read(s) left out: they do not fit the journey"),
    "excl_unplaced": ("passage(s) à des caméras sans position", "doorgang(en) aan camera's zonder positie",
                      "sighting(s) at cameras without a position"),
    "excl_impossible-hop": ("saut(s) impossible(s) sans trajet dessiné",
                            "onmogelijke sprong(en) zonder getekend traject", "impossible hop(s) with no route drawn"),
    "clone": ("plaque clonée suspectée", "vermoedelijk gekloonde plaat", "suspected cloned plate"),
    "misread": ("plaque mal lue", "verkeerd gelezen plaat", "misread plate"),
    # hit triage
    "hits_of_plate": ("alertes", "alerts", "hits"),
    "last_seen": ("Dernier passage", "Laatste doorgang", "Last seen"),
    "acknowledge": ("Prendre en compte", "Bevestigen", "Acknowledge"),
    "dismiss": ("Écarter", "Afwijzen", "Dismiss"),
    "triage_reason": ("Motif de la décision", "Reden van de beslissing", "Reason for the decision"),
    "acknowledged": ("pris en compte", "bevestigd", "acknowledged"),
    "dismissed": ("écarté", "afgewezen", "dismissed"),
    "to_handle": ("à traiter", "te behandelen", "to handle"),
    "by": ("par", "door", "by"),
    "new_hits": ("nouvelle(s) alerte(s)", "nieuwe alert(s)", "new hit(s)"),
    "state": ("État", "Status", "State"),
    # convoy, common plates, stakeout
    "convoy": ("Convoi", "Konvooi", "Convoy"),
    "common_plates": ("Plaques communes", "Gemeenschappelijke platen", "Common plates"),
    "stakeout": ("Planque", "Observatiepost", "Stakeout"),
    "window_s": ("Fenêtre (s)", "Venster (s)", "Window (s)"),
    "place": ("Lieu", "Plaats", "Place"),
    "places": ("lieux", "plaatsen", "places"),
    "passages": ("passages", "doorgangen", "passages"),
    "first_seen": ("Premier passage", "Eerste doorgang", "First seen"),
    "mean_gap_s": ("Écart moyen (s)", "Gemiddeld verschil (s)", "Mean gap (s)"),
    "no_result": ("Aucun résultat.", "Geen resultaat.", "No result."),
    "which": ("Lieux n°", "Plaatsen nr.", "Places no."),
    "choose_cameras": ("Choisissez au moins une caméra.", "Kies minstens één camera.", "Choose at least one camera."),
}

# the sentence shown for each kind of error, most specific first; the error's own words follow as detail
_ERRORS: list[tuple[type[BaseException], tuple[str, str, str]]] = [
    (errors.AccessDenied, ("Accès refusé : ce dossier ne peut pas voir ces données.",
                           "Toegang geweigerd: dit dossier mag deze gegevens niet zien.",
                           "Access denied: this case may not see these data.")),
    (errors.NotFound, ("Introuvable.", "Niet gevonden.", "Not found.")),
    (errors.InvalidInput, ("Saisie invalide.", "Ongeldige invoer.", "Invalid input.")),
    (errors.FootageError, ("Les images ne peuvent pas être lues.", "De beelden kunnen niet gelezen worden.",
                           "The footage cannot be read.")),
    (errors.ConfigurationError, ("Configuration incorrecte.", "Onjuiste configuratie.", "Wrong configuration.")),
    (errors.WorkbenchError, ("Impossible.", "Onmogelijk.", "Not possible.")),
]


def has_text(key: str) -> bool:
    """Whether ``key`` is a label (e.g. a column name the apps translate)."""
    return key in _TEXT


def text(key: str, lang: str = "fr") -> str:
    """The label ``key`` in ``lang`` (``fr``, ``nl`` or ``en``)."""
    return _TEXT[key][LANGUAGES.index(lang if lang in LANGUAGES else "fr")]


def error_text(exc: BaseException, lang: str = "fr") -> str:
    """What went wrong, said in ``lang``, with the error's own words as detail.

    >>> error_text(errors.AccessDenied("camera C1 refused"), "nl")
    'Toegang geweigerd: dit dossier mag deze gegevens niet zien. (detail: camera C1 refused)'
    """
    k = LANGUAGES.index(lang if lang in LANGUAGES else "fr")
    sentence = next(words[k] for kind, words in _ERRORS if isinstance(exc, kind)) \
        if isinstance(exc, errors.WorkbenchError) else _ERRORS[-1][1][k]
    detail = str(exc).strip()
    return f"{sentence} ({text('detail', lang)}: {detail})" if detail else sentence
