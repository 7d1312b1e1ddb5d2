"""``workbench bench apps``: the Voila apps in Chromium (Playwright), served by a real ``workbench apps``.

Timed in one run, on the sample world (built in a temporary home, or a copy of
``--home``), as an investigator and on a closed network (every request that
leaves 127.0.0.1 is refused and counted):

* ``first_view_s``: the first page view of each app right after the server
  listens (the kernel pool still filling), median over the apps;
* ``warm_view_s``: a later page view once the pool is warm, by a returning
  user (the browser that made the first views, with its cache), median over
  the apps (target: under 3 s); ``warm_view_fresh_browser_s`` is the same
  view from a new browser profile each time (nothing cached: every script
  fetched again); ``cold_view_s`` is a view from a new profile with no pool
  (``--pool 0``: a kernel started for each view once the visitor asks,
  forked from ``workbench apps``' fork server like the pool's, the
  baseline), and ``warm_speedup`` the ratio of the two fresh-profile views
  (what the pool's preheating gains; the fork server helps both sides); ``warm_view_cpu_s`` is the CPU
  time a warm view costs (median over the apps of the best round), summed
  over every process under the benchmark (server, kernels, the pools'
  refills, Chromium, Playwright's driver): what a loaded machine does not
  inflate;
* ``plate_search_s``: the suspect's plate searched in the sightings map until
  its map, list and findings show;
* ``frame_hit_open_s``: in the frame search, a hit along the route opened until
  its exact frame and keyframe buttons show;
* ``map_pan_fps``: frames per second while the sightings map pans at street
  zoom (17) (target: 30);
* ``report_pdf_s``: the case report as a PDF, from the sightings map's report
  button until its download link shows (a measurement is one function in
  :data:`MEASURES`; one that cannot be taken is ``null`` with its reason in
  ``unavailable``);
* ``external_requests``: requests that tried to leave the machine (target: 0).

A view is "usable" when the app's first input is on the page.
"""

from __future__ import annotations

import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click

from workbench.bench._processes import cpu_below
from workbench.errors import ConfigurationError
from workbench.service.process import PortTaken, on_a_free_port

PLATE_BOX = "input[placeholder='1-ABC-234']"
READY = {"sightings_map": PLATE_BOX, "frame_search": PLATE_BOX, "hit_triage": ".wb-hit-row, .wb-message",
         "convoy": PLATE_BOX, "common_plates": ".wb-places", "stakeout": ".wb-cameras"}
"""The investigator's apps and the selector that says each is usable."""
CLOSED_PROXY = "http://127.0.0.1:9"
"""A proxy nobody listens on: every request that leaves 127.0.0.1 fails, as on a closed network."""
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--disable-sync", "--no-first-run", f"--proxy-server={CLOSED_PROXY}"]
LOCAL = ("http://127.0.0.1", "ws://127.0.0.1", "data:", "blob:", "about:")
LOAD_MS = 180_000


class Unavailable(Exception):
    """A measurement that cannot be taken yet; its message is the reason."""


PORT_TAKEN = ("is taken by another program", "no available port could be found")
"""What ``workbench apps`` says when its port was taken between choosing it and listening on it."""


def serve_apps(home: Path, user: str, log: Path, *, pool: int | None = None, tiles: str = "urbis",
               timeout_s: float = 60, attempts: int = 5) -> tuple[subprocess.Popen, str]:
    """Start ``workbench apps`` on ``home`` as ``user`` (output to ``log``); returns the process and its URL.

    Ready when Voila says it listens on the port chosen (``workbench apps``
    never moves to another). A free port can be taken before the server binds
    it (a kernel's socket, another server): then a new port is chosen, up to
    ``attempts`` times; any other stop is a ConfigurationError with the log's end.
    """
    env = {**os.environ, "WORKBENCH_HOME": str(home), "WORKBENCH_USER": user, "WORKBENCH_TILES": tiles}
    env.pop("JUPYTERHUB_USER", None)

    def start(port: int) -> tuple[subprocess.Popen, str]:
        command = [str(Path(sys.executable).with_name("workbench")), "apps", "--port", str(port)]
        if pool is not None:
            command += ["--pool", str(pool)]
        proc = subprocess.Popen(command, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
        deadline = time.monotonic() + timeout_s
        while proc.poll() is None and f"127.0.0.1:{port}/" not in _after_running_at(log):
            if time.monotonic() > deadline:
                proc.kill()
                raise ConfigurationError(f"workbench apps did not listen on {port}: {log.read_text()[-2000:]}")
            time.sleep(0.3)
        if proc.poll() is None:
            return proc, f"http://127.0.0.1:{port}"
        if any(words in log.read_text() for words in PORT_TAKEN):
            raise PortTaken(ConfigurationError(f"workbench apps found its port taken {attempts} times: "
                                               f"{log.read_text()[-2000:]}"))
        raise ConfigurationError(f"workbench apps stopped: {log.read_text()[-2000:]}")

    return on_a_free_port(start, attempts)


def _after_running_at(log: Path) -> str:
    """The log after Voila's "is running at" line (empty before Voila listens)."""
    text = log.read_text()
    at = text.find("is running at")
    return text[at:] if at >= 0 else ""


def wait_for_pools(log: Path, apps: int, timeout_s: float = 600) -> None:
    """Wait until Voila says every app's kernel pool is filled (read from the server's log)."""
    deadline = time.monotonic() + timeout_s
    while log.read_text().count("is filled with") < apps:
        if time.monotonic() > deadline:
            raise ConfigurationError(f"the kernel pools did not fill in {timeout_s:.0f} s")
        time.sleep(0.5)


def chromium_path() -> str:
    """Debian's Chromium, or a clear error naming the package."""
    found = shutil.which("chromium")
    if not found:
        raise ConfigurationError("the apps benchmark drives Chromium: apt-get install chromium")
    return found


def closed_network(context: Any, refused: list[str]) -> None:
    """Record in ``refused`` every request of ``context`` that tries to leave 127.0.0.1.

    Chromium runs with :data:`CHROMIUM_ARGS`, whose proxy refuses them all
    (loopback never goes through a proxy). Not Playwright's request routing:
    routing turns the browser's HTTP cache off, and a returning user's cache
    is part of what a page view costs.
    """
    def record(url: str) -> None:
        if not url.startswith(LOCAL):
            refused.append(url)
    context.on("request", lambda r: record(r.url))
    context.on("page", lambda page: page.on("websocket", lambda ws: record(ws.url)))


def open_app(page: Any, url: str, app: str, ready: str, query: str = "") -> float:
    """Open ``app`` and return the seconds until ``ready`` shows."""
    start = time.perf_counter()
    page.goto(f"{url}/voila/render/{app}.ipynb{query}", timeout=LOAD_MS, wait_until="domcontentloaded")
    page.wait_for_selector(ready, timeout=LOAD_MS)
    return time.perf_counter() - start


def search_plate(page: Any, plate: str) -> float:
    """Search ``plate`` in the sightings map; seconds until its summary, list and map are drawn."""
    start = time.perf_counter()
    page.fill(PLATE_BOX, plate)
    page.locator(".jupyter-button.mod-primary").first.click()
    page.wait_for_selector(".wb-plate", timeout=LOAD_MS)
    page.wait_for_selector(".wb-sightings", timeout=LOAD_MS)
    page.frame_locator("iframe").first.locator("path.leaflet-interactive").first.wait_for(timeout=LOAD_MS)
    return time.perf_counter() - start


_COUNT_FRAMES = """async () => {
  const map = Object.values(window).find(v => v && v instanceof L.Map);
  map.setZoom(17, {animate: false});
  await new Promise(r => setTimeout(r, 800));
  window.wbFrames = 0; window.wbCounting = true; window.wbStart = performance.now();
  (function tick() { if (window.wbCounting) { window.wbFrames++; requestAnimationFrame(tick); } })();
}"""
_STOP = "() => { window.wbCounting = false; return window.wbFrames / ((performance.now() - window.wbStart) / 1000); }"


def map_pan_fps(page: Any, seconds: float = 2.0) -> float:
    """Frames per second drawn while the user drags the page's first map at street zoom (zoom 17)."""
    frame = next(f for f in page.frames if f != page.main_frame and f.evaluate("typeof L !== 'undefined'"))
    element = page.locator("iframe").first
    element.scroll_into_view_if_needed()
    box = element.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    frame.evaluate(_COUNT_FRAMES)
    page.mouse.move(x, y)
    page.mouse.down()
    start, step = time.perf_counter(), 0
    while time.perf_counter() - start < seconds:
        step += 1
        page.mouse.move(x + 120 * ((step // 40) % 2 * 2 - 1) * (step % 40) / 40, y + (step % 40), steps=1)
    page.mouse.up()
    return float(frame.evaluate(_STOP))


def frame_hit_open(page: Any, url: str, plate: str) -> float:
    """In the frame search, search along ``plate``'s route and open the first hit; seconds for the opening."""
    open_app(page, url, "frame_search", PLATE_BOX)
    page.fill(PLATE_BOX, plate)
    page.locator(".jupyter-button.mod-primary").first.click()
    show = page.locator(".wb-show-hit").first
    show.wait_for(timeout=LOAD_MS)
    start = time.perf_counter()
    show.click()
    page.locator(".wb-next-keyframe").first.wait_for(timeout=LOAD_MS)
    return time.perf_counter() - start


def report_pdf(page: Any, url: str, plate: str) -> float:
    """The case report as PDF from the sightings map's button (the plate already searched): seconds to its link."""
    button = page.locator(".wb-report-button")
    if button.count() == 0:
        raise Unavailable("the sightings map shows no report button")
    start = time.perf_counter()
    button.first.click()
    page.locator("a.wb-report-link").first.wait_for(timeout=LOAD_MS)
    return time.perf_counter() - start


MEASURES: dict[str, Callable[[Any, str, str], float]] = {"report_pdf_s": report_pdf}
"""Measurements added by other features: name -> function(page, url, suspect plate) -> seconds."""


@contextmanager
def _world(home: Path | None) -> Iterator[Path]:
    with tempfile.TemporaryDirectory(prefix="bench-apps-") as tmp:
        target = Path(tmp) / "home"
        if home is not None:
            shutil.copytree(home, target)
        else:
            from workbench.config import Settings
            from workbench.samples import build_sample

            build_sample(Settings.from_env({}, home=target))
        yield target


def _suspect(home: Path) -> str:
    import workbench
    from workbench.samples import SAMPLE_CASE

    ws = workbench.open(home)
    hits = ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation") \
        .hits(include_ignored=True)
    ws.store.dispose()
    return str(hits.loc[hits["reason"].str.contains("Suspect"), "plate"].iloc[0])


def _context(browser: Any, refused: list[str]) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    closed_network(context, refused)
    return context


def _views(browser: Any, url: str, refused: list[str], returning: Any = None,
           cpu: dict[str, float] | None = None) -> dict[str, float]:
    """One page view of each app: in the ``returning`` user's browser context, else each in a new profile.

    With ``cpu``, each view's CPU seconds (:func:`cpu_below` this process) go in it by app.
    """
    times = {}
    for app, ready in READY.items():
        context = returning or _context(browser, refused)
        page = context.new_page()
        before = cpu_below(os.getpid())
        times[app] = open_app(page, url, app, ready)
        if cpu is not None:
            cpu[app] = cpu_below(os.getpid()) - before
        page.close()
        if returning is None:
            context.close()
    return times


def run(home: Path | None, *, repeat: int = 2) -> dict[str, Any]:
    """Every measurement of the module docstring, as one dictionary."""
    from playwright.sync_api import sync_playwright

    result: dict[str, Any] = {"unavailable": {}}
    refused: list[str] = []
    with _world(home) as world, tempfile.TemporaryDirectory(prefix="bench-apps-logs-") as logs:
        plate = _suspect(world)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=chromium_path(), args=CHROMIUM_ARGS)
            log = Path(logs) / "warm.log"
            proc, url = serve_apps(world, "inspector.dupont", log, tiles="none")
            try:
                user = _context(browser, refused)   # the investigator's browser, its cache kept between views
                first = _views(browser, url, refused, user)
                wait_for_pools(log, len(list((Path(__file__).resolve().parents[2] / "voila_apps").glob("*.ipynb"))))
                rounds = []
                for _ in range(repeat):
                    cpu: dict[str, float] = {}
                    times = _views(browser, url, refused, user, cpu)
                    rounds.append((statistics.median(times.values()), statistics.median(cpu.values())))
                warm, warm_cpu = min(rounds)   # the best round's time, and its CPU
                fresh = statistics.median(_views(browser, url, refused).values())
                page = user.new_page()
                open_app(page, url, "sightings_map", PLATE_BOX)
                result["plate_search_s"] = round(search_plate(page, plate), 2)
                result["map_pan_fps"] = round(map_pan_fps(page), 1)
                for name, measure in MEASURES.items():   # on the sightings map, the plate searched
                    try:
                        result[name] = round(measure(page, url, plate), 2)
                    except Unavailable as why:
                        result[name] = None
                        result["unavailable"][name] = str(why)
                result["frame_hit_open_s"] = round(frame_hit_open(page, url, plate), 2)
                user.close()
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            cold_log = Path(logs) / "cold.log"
            proc, url = serve_apps(world, "inspector.dupont", cold_log, pool=0, tiles="none")
            try:
                cold = statistics.median(_views(browser, url, refused).values())
            finally:
                proc.terminate()
                proc.wait(timeout=30)
            browser.close()
    result.update(first_view_s=round(statistics.median(first.values()), 2), warm_view_s=round(warm, 2),
                  warm_view_cpu_s=round(warm_cpu, 2),
                  warm_view_fresh_browser_s=round(fresh, 2), cold_view_s=round(cold, 2),
                  warm_speedup=round(cold / max(fresh, 1e-3), 1),
                  external_requests=len(refused), load_1m=round(os.getloadavg()[0], 2))
    return result


@click.command()
@click.option("--home", type=click.Path(file_okay=False, exists=True, path_type=Path), default=None,
              help="a built sample world to copy (default: build one in a temporary home)")
@click.option("--repeat", default=2, show_default=True, help="warm rounds over the apps (the best is kept)")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def command(home: Path | None, repeat: int, as_json: bool) -> None:
    """The apps in Chromium: first and warm page views, a plate search, a frame hit, map panning."""
    result = run(home, repeat=repeat)
    if as_json:
        click.echo(json.dumps(result))
        return
    for key, value in result.items():
        click.echo(f"{key}: {value}")
    click.echo(f"warm page view {result['warm_speedup']}x faster than a new kernel per view")
