"""The Voila apps in a real browser: `workbench apps` serves voila_apps/, Chromium drives each app.

The sample world is built in a temporary home; one server runs as an
investigator, one as the auditor (the apps take the identity from the
environment, as in a deployment). Requests that leave 127.0.0.1 are refused,
as on a closed network: base tiles go missing, the apps keep working.
A screenshot of each app is kept in tests/artifacts/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

import workbench
from workbench.config import Settings
from workbench.samples import SAMPLE_CASE, build_sample

from conftest import system_program

pytestmark = [pytest.mark.browser, pytest.mark.slow]
ARTIFACTS = Path(__file__).parent / "artifacts"
LOAD_MS = 180_000   # first render: kernel start, imports, road graph


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _serve(home: Path, user: str, log: Path):  # type: ignore[no-untyped-def]
    port = _free_port()
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_USER": user, "WORKBENCH_TILES": "urbis"}
    env.pop("JUPYTERHUB_USER", None)
    command = [str(Path(sys.executable).with_name("workbench")), "apps", "--port", str(port)]
    proc = subprocess.Popen(command,
                            env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"workbench apps stopped: {log.read_text()[-2000:]}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return proc, f"http://127.0.0.1:{port}"
        except OSError:
            time.sleep(0.5)
    proc.kill()
    raise AssertionError(f"workbench apps did not listen on {port}: {log.read_text()[-2000:]}")


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A sample world of yesterday: the servers run on the real clock, which the session's fixed-day world
    would leave outside the footage retention a month from now."""
    home = tmp_path_factory.mktemp("apps-home")
    build_sample(Settings.from_env({}, home=home))
    return home


@pytest.fixture(scope="module")
def suspect(home) -> str:
    ws = workbench.open(home)
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    hits = case.hits(include_ignored=True)
    plate = str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])
    ws.store.dispose()
    return plate


@pytest.fixture(scope="module")
def servers(home, tmp_path_factory):
    logs = tmp_path_factory.mktemp("apps-logs")
    started = {user: _serve(home, user, logs / f"{user}.log") for user in ("inspector.dupont", "auditor.maes")}
    yield {user: url for user, (_proc, url) in started.items()}
    for proc, _url in started.values():
        proc.terminate()
        proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=system_program("chromium"), args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", "--no-first-run"])
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 1280, "height": 1000})
    context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(
        ("http://127.0.0.1", "data:", "blob:", "about:")) else route.abort())   # a closed network
    page = context.new_page()
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


def test_sightings_map_finds_the_suspect_and_draws_it_offline(servers, page, home, suspect):
    _open(page, servers["inspector.dupont"], "sightings_map", "input[placeholder='1-ABC-234']")
    assert "inspector.dupont" in page.content()
    page.fill("input[placeholder='1-ABC-234']", suspect)
    page.get_by_role("button", name="Chercher").click()
    page.wait_for_selector(".wb-plate", timeout=60_000)
    ws = workbench.open(home)
    trip = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation").trajectory(suspect)
    assert page.locator(".wb-plate").inner_text() == suspect
    assert f"{len(trip.sightings)} passages" in page.locator(".wb-plate").locator("..").inner_text()
    assert page.locator("circle.wb-sighting").count() == len(trip.sightings)
    the_map = page.frame_locator("iframe").first
    the_map.locator("path.leaflet-interactive").first.wait_for(timeout=30_000)
    assert the_map.locator("path.leaflet-interactive").count() >= len(trip.sightings) + 19   # + municipalities
    assert the_map.locator("path.wb-slider-point").count() == len(trip.sightings)   # the time slider, at the end
    the_map.locator(".wb-time-slider input").evaluate("r => { r.value = 0; r.dispatchEvent(new Event('input')); }")
    assert the_map.locator("path.wb-slider-point").count() == 1
    assert trip.sightings["camera_id"].iloc[0] in the_map.locator(".wb-time").inner_text()
    _shot(page, "sightings_map")
    assert page.errors == []


def test_sightings_map_suggests_plates_and_explains_an_unknown_one(servers, page, suspect):
    _open(page, servers["inspector.dupont"], "sightings_map", "input[placeholder='1-ABC-234']")
    misread = suspect[:-1] + ("8" if suspect[-1] != "8" else "3")
    page.fill("input[placeholder='1-ABC-234']", misread)
    page.get_by_role("button", name="Chercher").click()
    page.get_by_text("Vouliez-vous dire").wait_for(timeout=60_000)
    page.get_by_role("button", name=f"{suspect} (").click()
    page.wait_for_selector(".wb-plate", timeout=60_000)
    page.fill("input[placeholder='1-ABC-234']", "9-ZZZ-999")
    page.get_by_role("button", name="Chercher").click()
    page.get_by_text("Aucun passage pour cette plaque").wait_for(timeout=60_000)
    _shot(page, "sightings_map_unknown_plate")


def test_sightings_map_speaks_dutch(servers, page):
    _open(page, servers["inspector.dupont"], "sightings_map", "input[placeholder='1-ABC-234']", "?lang=nl")
    assert page.get_by_role("button", name="Zoeken").count() == 1
    assert "Kaart van de doorgangen" in page.locator(".wb-title").inner_text()


def test_frame_search_along_the_route_opens_the_exact_frame(servers, page, suspect):
    _open(page, servers["inspector.dupont"], "frame_search", "input[placeholder='1-ABC-234']")
    page.fill("input[placeholder='1-ABC-234']", suspect)
    page.get_by_role("button", name="Chercher").click()
    page.get_by_role("button", name="Voir").first.wait_for(timeout=120_000)
    thumbnails = page.locator(".widget-image")
    assert thumbnails.count() >= 1
    page.get_by_role("button", name="Voir").first.click()
    page.get_by_role("button", name="image clé ▶").wait_for(timeout=60_000)
    caption = page.get_by_text("CCTV-").first
    assert "CCTV-" in caption.inner_text()
    before = page.locator("text=/\\d\\d:\\d\\d:\\d\\d\\.\\d{3} UTC/").first.inner_text()
    page.get_by_role("button", name="image clé ▶").click()
    page.wait_for_function("b => !document.body.innerText.includes(b)", arg=before, timeout=30_000)
    assert "Vues synchronisées" in page.content()
    _shot(page, "frame_search")
    assert page.errors == []


def test_hit_triage_lists_hits_most_urgent_first(servers, page, home):
    _open(page, servers["inspector.dupont"], "hit_triage", "table.wb-triage")
    ws = workbench.open(home)
    case = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    acted, everything = len(case.hits()), len(case.hits(include_ignored=True))
    assert page.locator("tr.wb-hit").count() == acted
    priorities = [int(t) for t in page.locator("tr.wb-hit td:first-child").all_inner_texts()]
    assert priorities == sorted(priorities)
    page.get_by_text("Montrer aussi les alertes ignorées").click()
    page.wait_for_function(f"() => document.querySelectorAll('tr.wb-hit').length === {everything}",
                           timeout=60_000)
    _shot(page, "hit_triage")
    assert page.errors == []


def test_indicators_for_the_auditor_and_a_clear_refusal_for_others(servers, page, home):
    _open(page, servers["auditor.maes"], "indicators", ".wb-figure")
    ws = workbench.open(home)
    figures = ws.login("auditor.maes").indicators()
    shown = page.locator(".wb-figure[data-name='hits'] div").first.inner_text()
    assert int(shown) == figures.summary()["hits"] > 0
    assert page.locator(".wb-figure[data-name='footage_requests']").count() == 1
    assert "PZ5339" in page.locator("table.wb-table").last.inner_text()
    the_map = page.frame_locator("iframe").first
    the_map.locator("path.wb-density").first.wait_for(timeout=30_000)
    assert the_map.locator("path.wb-density").count() >= 1
    _shot(page, "indicators")
    _open(page, servers["inspector.dupont"], "indicators", ".wb-message")
    assert "investigator role does not read" in page.locator(".wb-message").inner_text()
    _open(page, servers["auditor.maes"], "sightings_map", ".wb-message")
    assert "Aucun dossier ouvert que vous puissiez consulter" in page.locator(".wb-message").inner_text()
    assert page.locator("input[placeholder='1-ABC-234']").count() == 0


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
