"""The Voila apps in a real browser: `workbench apps` serves voila_apps/, Chromium drives each app, in FR and NL.

The sample world is built in a temporary home; one server runs as an
investigator with its preheated kernel pools, one as the auditor (no pool: a
kernel per view, as ``--pool 0``); the apps take the identity from the
environment, as in a deployment. Requests that leave 127.0.0.1 are refused,
as on a closed network: base tiles go missing, the street map and the apps
keep working. A screenshot of each app is written to tests/artifacts/ (one
reference set is kept in tests/artifacts/reference/).
"""

from __future__ import annotations

import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

import workbench
from workbench.bench.apps import CHROMIUM_ARGS, PLATE_BOX, closed_network, serve_apps, wait_for_pools
from workbench.config import Settings
from workbench.samples import SAMPLE_CASE, build_sample
from workbench.trajectories import findings

from conftest import system_program

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).parent / "artifacts"
LOAD_MS = 180_000   # a view with no warm kernel: kernel start, imports, road graph
APPS = len(list((Path(__file__).parents[1] / "voila_apps").glob("*.ipynb")))


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A sample world of yesterday: the servers run on the real clock, which the session's fixed-day world
    would leave outside the footage retention a month from now."""
    home = tmp_path_factory.mktemp("apps-home")
    build_sample(Settings.from_env({}, home=home))
    return home


@pytest.fixture(scope="module")
def case(home):
    ws = workbench.open(home)
    yield ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    ws.store.dispose()


@pytest.fixture(scope="module")
def suspect(case) -> str:
    hits = case.hits(include_ignored=True)
    return str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])


@pytest.fixture(scope="module")
def servers(home, tmp_path_factory):
    logs = tmp_path_factory.mktemp("apps-logs")
    started = {"inspector.dupont": serve_apps(home, "inspector.dupont", logs / "inspector.log"),
               "auditor.maes": serve_apps(home, "auditor.maes", logs / "auditor.log", pool=0)}
    yield {user: url for user, (_proc, url) in started.items()} | {"log": logs / "inspector.log"}
    for proc, _url in started.values():
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=system_program("chromium"), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    page = context.new_page()
    page.refused = []
    closed_network(context, page.refused)
    page.errors = []
    page.on("pageerror", lambda e: page.errors.append(str(e)))
    yield page
    context.close()


def _open(page, url: str, app: str, ready: str, query: str = "") -> None:
    page.goto(f"{url}/voila/render/{app}.ipynb{query}", timeout=LOAD_MS, wait_until="domcontentloaded")
    page.wait_for_selector(ready, timeout=LOAD_MS)


def _shot(page, name: str) -> None:
    ARTIFACTS.mkdir(exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / f"{name}.png"), full_page=True)


def _search(page, plate: str, button: str = "Chercher") -> None:
    page.fill(PLATE_BOX, plate)
    page.get_by_role("button", name=button).click()


def test_sightings_map_names_misreads_and_blind_spots_in_french(servers, page, case, suspect):
    wait_for_pools(servers["log"], APPS)
    _open(page, servers["inspector.dupont"], "sightings_map", PLATE_BOX)
    assert "inspector.dupont" in page.content()
    _search(page, suspect)
    page.wait_for_selector(".wb-progress", state="attached", timeout=60_000)   # a step over a second shows itself
    page.wait_for_selector(".wb-sightings", timeout=120_000)
    trip = case.trajectory(suspect)
    blind = findings.blind_spots(trip.route, case.camera_access())
    assert page.locator(".wb-plate").inner_text() == suspect
    assert page.locator("tr.wb-sighting-row").count() == len(trip.sightings)
    misread = page.locator("tr.wb-sighting-row[data-note='misread']")
    assert misread.count() == int(trip.sightings["merged_misread"].sum()) >= 1
    assert "lecture erronée rattachée" in misread.first.inner_text()
    excluded = page.locator(".wb-exclusions li[data-what='blind-spot']").inner_text()
    assert excluded.startswith(f"{len(blind)} caméra(s) le long du trajet") and blind["reason"].iloc[0] in excluded
    the_map = page.frame_locator("iframe").first
    the_map.locator("path.wb-blind-spot").first.wait_for(timeout=30_000)
    assert the_map.locator("path.wb-blind-spot").count() == len(blind)
    assert the_map.locator("path.wb-merged-misread").count() == int(trip.sightings["merged_misread"].sum())
    assert the_map.locator(".wb-legend-findings").inner_text().startswith("Constats")
    assert the_map.locator("path.wb-slider-point").count() == len(trip.sightings.dropna(subset=["lon"]))
    srcdoc = page.locator("iframe").first.get_attribute("srcdoc") or ""
    assert "streets.js?v=" in srcdoc and "data:text/javascript" not in srcdoc and len(srcdoc) < 500_000
    the_map.locator(".leaflet-wb-streets-pane canvas").first.wait_for(timeout=30_000)   # streets from the linked file
    _shot(page, "sightings_map")
    assert page.errors == []
    assert "Using pre-heated kernel" in servers["log"].read_text()


def test_sightings_map_in_dutch_names_the_clone_and_clears_it_for_an_unknown_plate(servers, page, case):
    _open(page, servers["inspector.dupont"], "sightings_map", PLATE_BOX, "?lang=nl")
    assert "Kaart van de doorgangen" in page.locator(".wb-title").inner_text()
    clone = str(case.cloned_plates()["plate"].iloc[0])
    _search(page, clone, "Zoeken")
    page.wait_for_selector(".wb-sightings", timeout=120_000)
    hops = findings.impossible_hops(case.trajectory(clone))
    assert "vermoedelijk gekloonde plaat" in page.locator(".wb-sightings").inner_text()
    the_map = page.frame_locator("iframe").first
    the_map.locator("path.wb-impossible-hop").first.wait_for(timeout=30_000)
    assert the_map.locator("path.wb-impossible-hop").count() == len(hops)
    assert the_map.locator(".wb-legend").inner_text().startswith("Legende")    # the base map's legend in Dutch too
    _shot(page, "sightings_map_clone_nl")
    _search(page, "9-ZZZ-999", "Zoeken")
    page.get_by_text("Geen doorgang voor deze nummerplaat").wait_for(timeout=60_000)
    assert page.locator("iframe").count() == 0 and page.locator(".wb-sightings").count() == 0   # nothing left over
    tile_servers = {"geoservices-urbis.irisnet.be", "tile.openstreetmap.org"}   # WORKBENCH_TILES=urbis names them
    assert page.refused and {urlparse(u).hostname for u in page.refused} <= tile_servers   # nothing else, no CDN


def test_sightings_map_suggests_plates(servers, page, suspect):
    _open(page, servers["inspector.dupont"], "sightings_map", PLATE_BOX)
    misread = suspect[:-1] + ("8" if suspect[-1] != "8" else "3")
    _search(page, misread)
    page.get_by_text("Vouliez-vous dire").wait_for(timeout=60_000)
    page.get_by_role("button", name=f"{suspect} (").click()
    page.wait_for_selector(".wb-plate", timeout=60_000)


def test_frame_search_along_the_route_opens_the_exact_frame(servers, page, suspect):
    _open(page, servers["inspector.dupont"], "frame_search", PLATE_BOX)
    _search(page, suspect)
    page.locator(".wb-show-hit").first.wait_for(timeout=120_000)
    assert page.locator(".widget-image").count() >= 1
    page.locator(".wb-show-hit").first.click()
    page.locator(".wb-next-keyframe").first.wait_for(timeout=60_000)
    assert "CCTV-" in page.get_by_text("CCTV-").first.inner_text()
    before = page.locator("text=/\\d\\d:\\d\\d:\\d\\d\\.\\d{3} UTC/").first.inner_text()
    page.locator(".wb-next-keyframe").first.click()
    page.wait_for_function("b => !document.body.innerText.includes(b)", arg=before, timeout=30_000)
    assert "Vues synchronisées" in page.content()
    _shot(page, "frame_search")
    assert page.errors == []


def _new_hotlist(home: Path, plate: str, since) -> None:
    """A national list naming ``plate`` from ``since``: its sightings since then become new hits."""
    import pandas as pd

    from workbench.access import audit
    from workbench.plates.hotlist import load_hotlist

    ws = workbench.open(home)
    try:
        load_hotlist(ws.store, pd.DataFrame({"plate": [plate], "priority": [0], "reason": ["Nouvelle alerte (test)"]}),
                     name="test-new-hits", owner="FEDPOL", scope="national", now=ws.now(),
                     audit=audit.writer(audit.Actor("system:test"), time=ws.now()), valid_from=since)
    finally:
        ws.store.dispose()


def test_hit_triage_per_plate_with_decisions_and_new_hits_without_reload(servers, page, browser, home, case):
    _open(page, servers["inspector.dupont"], "hit_triage", ".wb-hit-row")
    hits = case.hits()
    plates = hits.sort_values(["priority", "time"], ascending=[True, False])["plate"].drop_duplicates()
    assert page.locator(".wb-hit-row").count() == len(plates)
    first = page.locator(".wb-hit-row").first
    assert first.inner_text().split(" · ")[1] == plates.iloc[0]
    first.click()
    page.locator(".wb-selected-plate").wait_for(timeout=60_000)
    page.frame_locator("iframe").first.locator("path.leaflet-interactive").first.wait_for(timeout=60_000)
    mine = page.locator("span.wb-hit")
    assert mine.count() == int((hits["plate"] == plates.iloc[0]).sum())
    page.locator(".wb-dismiss").first.click()                           # no reason: refused in words
    page.get_by_text("Saisie invalide").wait_for(timeout=30_000)
    page.locator(".wb-triage-reason input").first.fill("véhicule contrôlé, en règle")
    page.locator(".wb-dismiss").first.click()
    page.locator("span.wb-hit[data-state='dismiss']").first.wait_for(timeout=30_000)
    assert "véhicule contrôlé, en règle" in page.locator("span.wb-hit[data-state='dismiss']").first.inner_text()
    assert (case.hits()["triage"] == "dismiss").sum() == 1
    _shot(page, "hit_triage")
    others = sorted(set(case.hits(include_ignored=True)["plate"]) - set(hits["plate"]))
    _new_hotlist(home, case.cloned_plates()["plate"].iloc[0] if not others else others[0],
                 hits["time"].min().normalize())
    page.get_by_text("nouvelle(s) alerte(s)").wait_for(timeout=90_000)   # polled, no reload
    page.wait_for_function(f"() => document.querySelectorAll('.wb-hit-row').length === {len(plates) + 1}",
                           timeout=30_000)
    assert page.errors == []


def test_hit_triage_speaks_dutch(servers, page):
    _open(page, servers["inspector.dupont"], "hit_triage", ".wb-hit-row", "?lang=nl")
    page.locator(".wb-hit-row").first.click()
    page.locator(".wb-acknowledge").first.wait_for(timeout=60_000)
    assert page.locator(".wb-acknowledge").first.inner_text() == "Bevestigen"
    assert "Triage van de alerts" in page.locator(".wb-title").inner_text()


def test_convoy_finds_the_car_travelling_with_the_suspect(servers, page, case, suspect):
    _open(page, servers["inspector.dupont"], "convoy", PLATE_BOX)
    _search(page, suspect)
    page.wait_for_selector("table.wb-convoy", timeout=120_000)
    expected = case.convoy(suspect)
    assert page.locator("table.wb-convoy tr.wb-result-row").count() == len(expected) >= 1
    assert page.locator("table.wb-convoy tr.wb-result-row").first.inner_text().startswith(expected["plate"].iloc[0])
    _shot(page, "convoy")


def test_stakeout_in_dutch_and_common_plates_in_french(servers, page, case, suspect):
    trip = case.trajectory(suspect)
    listed = sorted(case.cameras(kind="anpr")["camera_id"])     # the form lists the case's ANPR cameras in order
    first, last = (listed.index(trip.sightings["camera_id"].iloc[k]) for k in (0, -1))
    _open(page, servers["inspector.dupont"], "stakeout", ".wb-cameras select", "?lang=nl")
    page.locator(".wb-cameras select").select_option(index=[first])
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_selector("table.wb-stakeout", timeout=120_000)
    assert suspect in page.locator("table.wb-stakeout").inner_text()
    assert "Eerste doorgang" in page.locator("table.wb-stakeout tr").first.inner_text()
    _shot(page, "stakeout")
    _open(page, servers["inspector.dupont"], "common_plates", ".wb-places select")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_text("Choisissez au moins une caméra").wait_for(timeout=60_000)
    selects = page.locator(".wb-places select")
    selects.nth(0).select_option(index=[first])
    selects.nth(1).select_option(index=[last])
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_selector("table.wb-common", timeout=120_000)
    assert suspect in page.locator("table.wb-common").inner_text()
    _shot(page, "common_plates")


def test_indicators_for_the_auditor_and_a_clear_refusal_for_others(servers, page, home):
    _open(page, servers["auditor.maes"], "indicators", ".wb-figure")
    ws = workbench.open(home)
    figures = ws.login("auditor.maes").indicators()
    shown = page.locator(".wb-figure[data-name='hits'] div").first.inner_text()
    assert int(shown) == figures.summary()["hits"] > 0
    assert "PZ5339" in page.locator("table.wb-table").last.inner_text()
    the_map = page.frame_locator("iframe").first
    the_map.locator("path.wb-density").first.wait_for(timeout=30_000)
    _shot(page, "indicators")
    _open(page, servers["auditor.maes"], "sightings_map", ".wb-message")
    assert "Aucun dossier ouvert que vous puissiez consulter" in page.locator(".wb-message").inner_text()
    assert page.locator(PLATE_BOX).count() == 0
    ws.store.dispose()


def test_idle_kernels_are_culled_and_a_later_view_takes_a_preheated_kernel(servers, page):
    log = servers["log"]
    wait_for_pools(log, APPS)
    served = log.read_text().count("for convoy.ipynb")
    time.sleep(3)   # a pool refills a moment after a view (fill_delay)
    _open(page, servers["inspector.dupont"], "convoy", PLATE_BOX, "?lang=nl")
    text = log.read_text()
    assert "Culling kernels with idle durations > 600 seconds" in text
    assert text.count("for convoy.ipynb") == served + 1     # "Using pre-heated kernel: ... for convoy.ipynb"
    assert page.get_by_role("button", name="Zoeken").count() == 1


def test_shared_files_are_served_for_a_returning_browser_to_keep(servers):
    """The maps' files and the extensions' hashed files come with a long cache lifetime: fetched once."""
    url = servers["inspector.dupont"]
    manager = Path(sys.prefix) / "share" / "jupyter" / "labextensions" / "@jupyter-widgets" / "jupyterlab-manager"
    entry = next((manager / "static").glob("remoteEntry.*.js")).name
    for path in ("voila/templates/workbench-offline/static/streets.js?v=1",
                 "voila/templates/workbench-offline/static/leaflet.js?v=1",
                 f"voila/labextensions/@jupyter-widgets/jupyterlab-manager/static/{entry}"):
        with urllib.request.urlopen(f"{url}/{path}", timeout=30) as reply:
            assert reply.status == 200 and "max-age=" in reply.headers.get("Cache-Control", ""), path
            assert "no-cache" not in reply.headers.get("Cache-Control", ""), path


def test_frame_search_shows_its_pages(servers, page, home):
    ws = workbench.open(home)
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    found = case.frame_search(per_page=12, thumbnails=False)
    _open(page, servers["inspector.dupont"], "frame_search", "input[placeholder='1-ABC-234']")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_text(f"{found.total} résultats — Page 1/{found.pages}").wait_for(timeout=120_000)
    assert page.get_by_role("button", name="Voir").count() == min(found.total, 12)
    assert page.get_by_role("button", name="◀").is_disabled()
    assert page.get_by_role("button", name="▶").is_disabled() == (found.pages == 1)


@pytest.fixture(scope="module")
def shared_frame(home) -> str:
    """A colleague's bookmark on the suspect's passage at CCTV-PZ5344-102, where a neighbouring camera
    (CCTV-PZ5344-001) now also recorded that minute, so that playback has two clips to keep in step."""
    import pandas as pd

    from workbench.access import audit
    from workbench.footage.footage_ingest import ingest_footage

    from conftest import TEST_DATA

    ws = workbench.open(home)
    try:
        segment = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation") \
            .footage(cameras=["CCTV-PZ5344-102"]).iloc[0]
        at = segment["start"] + pd.Timedelta(seconds=46)
        ingest_footage(ws.store, [TEST_DATA / "footage" / "ahmetozlu_input_video.mp4"], camera_id="CCTV-PZ5344-001",
                       now=ws.now(), audit=audit.writer(audit.Actor("system:test"), time=ws.now()),
                       start=at - pd.Timedelta(seconds=16))
        colleague = ws.login("inspector.janssens").open_case(SAMPLE_CASE, purpose="judicial-investigation")
        return colleague.bookmark("frame", camera="CCTV-PZ5344-102", at=at, note="voiture rouge").id
    finally:
        ws.store.dispose()


_VIDEOS = "b => [...document.querySelectorAll('video')].map(v => [v.currentTime, +v.dataset.offset, v.paused])"


def test_a_colleagues_bookmark_opens_the_frame_and_plays_in_step_with_zoom(servers, page, shared_frame):
    _open(page, servers["inspector.dupont"], "frame_search", ".wb-play", f"?bookmark={shared_frame}")
    assert "Ouvert depuis le signet" in page.locator(".wb-message").first.inner_text()
    page.locator(".wb-play").click()
    player = page.frame_locator("iframe.wb-player")
    player.locator("video").nth(1).wait_for(state="attached", timeout=120_000)
    body = player.locator("body")
    body.evaluate("b => Promise.all([...document.querySelectorAll('video')].map(v => v.readyState >= 2 || "
                  "new Promise(r => v.addEventListener('loadeddata', r))))")
    assert body.evaluate("b => [...document.querySelectorAll('video')].map(v => v.videoWidth > 0)") == [True, True]
    player.locator("#play").click()
    page.wait_for_timeout(1500)
    t, videos = body.evaluate("b => window.wbPlayer.time()"), body.evaluate(_VIDEOS)
    assert t > 10.5 and all(not paused and abs(now - (t - offset)) < 0.6 for now, offset, paused in videos)
    player.locator("#play").click()
    player.locator("#scrub").evaluate("r => { r.value = 3; r.dispatchEvent(new Event('input')); }")
    page.wait_for_timeout(300)
    videos = body.evaluate(_VIDEOS)
    assert all(paused and abs(now - (3 - offset)) < 0.1 for now, offset, paused in videos if offset <= 3)
    frame = player.locator(".frame").first
    frame.scroll_into_view_if_needed()
    box = frame.bounding_box()
    page.mouse.move(box["x"] + box["width"] * 0.3, box["y"] + box["height"] * 0.3)
    page.mouse.down()
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.6, steps=5)
    page.mouse.up()
    assert "zoomed" in frame.get_attribute("class")
    scale = float(player.locator("video").first.get_attribute("style").split("scale(")[1].split(")")[0])
    assert 3.0 < scale < 3.7                                               # a third of the picture, enlarged
    _shot(page, "playback")
    assert page.errors == []


def test_a_bookmark_link_is_refused_to_who_is_not_on_the_case_in_dutch(servers, page, home, shared_frame):
    _open(page, servers["auditor.maes"], "frame_search", ".wb-error", f"?bookmark={shared_frame}&lang=nl")
    assert "Toegang geweigerd" in page.locator(".wb-error").inner_text()
    assert page.locator(".wb-play").count() == 0
    ws = workbench.open(home)
    trail = ws.login("auditor.maes").audit_events(user_name="auditor.maes")
    assert ((trail["action"] == "open-bookmark") & (trail["outcome"] == "denied")).any()


def test_sightings_map_report_bookmark_and_route_footage_in_dutch(servers, page, suspect):
    import pypdfium2 as pdfium

    _open(page, servers["inspector.dupont"], "sightings_map", "input[placeholder='1-ABC-234']", "?lang=nl")
    page.fill("input[placeholder='1-ABC-234']", suspect)
    page.get_by_role("button", name="Zoeken").click()
    page.wait_for_selector(".wb-plate", timeout=60_000)
    page.locator(".wb-report-button").click()
    page.locator("a.wb-report-link").wait_for(timeout=120_000)
    with page.expect_download() as download:
        page.locator("a.wb-report-link").click()
    document = pdfium.PdfDocument(Path(download.value.path()).read_bytes())
    text = "".join(p.get_textpage().get_text_range() for p in document)
    document.close()
    assert "Dossierrapport" in text and suspect.replace("-", "") in text and SAMPLE_CASE in text
    page.locator(".wb-bookmark-add").click()
    link = page.locator(".wb-bookmark-saved a.wb-bookmark-link")
    link.wait_for(timeout=30_000)
    assert "bookmark=" in link.get_attribute("href") and "lang=nl" in link.get_attribute("href")
    page.locator(".wb-play-route").first.click()
    player = page.frame_locator("iframe.wb-player")
    assert "Afspelen" in player.locator("#play").inner_text(timeout=120_000)
    _shot(page, "sightings_map_report_nl")
    assert page.errors == []
