"""The sample world: real partners, every role, agreements in every state, cameras at real places."""

from __future__ import annotations

import subprocess
import sys

import pytest
from sqlalchemy import select

from workbench.samples import SAMPLE_CASE, build_sample
from workbench.samples.world import base_cameras
from workbench.store.models import Agreement, Camera, Partner, User

from conftest import SAMPLE_DAY


def test_world_has_the_region_partners_roles_and_agreement_states(sample_ws):
    with sample_ws.store.session() as s:
        zones = s.execute(select(Partner.zone_code).where(Partner.kind == "police_zone")).scalars().all()
        roles = set(s.execute(select(User.role)).scalars())
        agreements = s.execute(select(Agreement)).scalars().all()
        kinds = set(s.execute(select(Camera.kind)).scalars())
    assert sorted(zones) == [5339, 5340, 5341, 5342, 5343, 5344]
    assert roles == {"investigator", "analyst", "trainer", "dispatcher", "auditor", "admin"}
    now = sample_ws.now()
    assert any(a.valid_until is not None and a.valid_until <= now for a in agreements)  # expired
    assert any(a.revoked_at is not None and a.revoked_at <= now for a in agreements)     # revoked
    assert any(a.data_kinds == ["plates"] for a in agreements)                            # plates only
    assert {"anpr", "fixed", "ptz", "drone"} <= kinds


def test_cameras_stand_inside_the_region_and_belong_to_the_zone_that_holds_them():
    cams = base_cameras()
    assert cams["camera_id"].is_unique
    assert cams["lon"].between(4.24, 4.49).all() and cams["lat"].between(50.76, 50.92).all()
    zone_owned = cams[cams["owner"].str.startswith("PZ")]
    assert len(zone_owned) >= 5
    # a camera owned by zone 5339 stands in Brussels-City or Ixelles: check one against the boundary file
    import geopandas as gpd

    from workbench.samples.world import DATA
    layers = gpd.read_file(str(DATA / "boundaries" / "brussels_municipalities_policezones_region_osm2013.geojson"))
    z5339 = layers[(layers["layer"] == "police_zone") & (layers["zone_code"] == 5339)].geometry.iloc[0]
    for row in cams[cams["owner"] == "PZ5339"].itertuples():
        assert z5339.contains(gpd.points_from_xy([row.lon], [row.lat])[0])


def test_build_is_deterministic_and_idempotent(settings, tmp_path):
    first = build_sample(settings, day=SAMPLE_DAY, traffic=False)
    again = build_sample(settings, day=SAMPLE_DAY, traffic=False)
    assert "built" in first and "already built" in again
    assert base_cameras().equals(base_cameras())


def test_sample_case_opens_for_the_demo_user(sample_ws):
    case = sample_ws.login("inspector.dupont").open_case(SAMPLE_CASE, purpose="judicial-investigation")
    access = case.camera_access()
    assert access["granted"].any() and (~access["granted"]).any()
    assert (access.loc[~access["granted"], "reason"].str.len() > 10).all()
    cams = case.cameras()
    assert cams.crs.to_epsg() == 4326 and set(cams["camera_id"]) == set(access.loc[access["granted"], "camera_id"])


@pytest.mark.slow
def test_cli_builds_the_world(tmp_path):
    env = {"WORKBENCH_HOME": str(tmp_path / "h"), "PATH": "/usr/bin:/bin"}
    run = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "sample", "build",
                          "--day", SAMPLE_DAY.isoformat()], env=env, capture_output=True, text=True)
    assert run.returncode == 0 and SAMPLE_CASE in run.stdout, run.stderr
    bad = subprocess.run([sys.executable, "-c", "from workbench.cli import main; main()", "sample", "build",
                          "--day", "someday"], env=env, capture_output=True, text=True)
    assert bad.returncode == 2 and "not a date or time" in bad.stderr and "Traceback" not in bad.stderr
