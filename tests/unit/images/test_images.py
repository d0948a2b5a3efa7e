"""Build planning and progress parsing (pure: no engine)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from tasks.engine.bake import read_paths
from tasks.images import plan as plan_module
from tasks.images.announce import Announcer
from tasks.images.plan import build_plan, detect_ca_bundle
from tasks.images.progress import BuildLog, ImageProgress
from tasks.model.stack import load_stack
from tests.ministack import DB_DOCKERFILE, MiniStack, copy_repo

# Plain progress of one bake where target b fails and target a is canceled.
FAILING_BAKE = """\
#1 [a internal] load build definition from Dockerfile
#1 DONE 0.0s
#6 [a internal] load metadata for docker.io/probe/base:1
#6 DONE 0.0s
#7 [b 1/2] FROM docker.io/probe/base:1
#7 DONE 0.0s
#8 [b 2/2] RUN echo boom && false
#8 ...
#7 [a 1/2] FROM docker.io/probe/base:1
#7 DONE 0.0s
#8 [b 2/2] RUN echo boom && false
#8 0.204 boom
#8 ERROR: executor failed running [/bin/sh -c echo boom && false]: exit code: 1
#9 [a 2/2] RUN sleep 3 && echo a > /a
#9 CANCELED
------
 > [b 2/2] RUN echo boom && false:
0.204 boom
------
ERROR: target b: failed to solve: executor failed running [/bin/sh -c echo boom && false]: exit code: 1
"""

CACHED_BAKE = """\
#3 [a 1/2] FROM docker.io/probe/base:1
#3 CACHED
#4 [a 2/2] RUN sleep 3 && echo a > /a
#4 CACHED
"""


SINGLE_TARGET_BAKE = """\
#2 [stage-0 1/5] FROM docker.io/mcp-offline/debian:trixie
#2 CACHED
#3 [internal] load build definition from Dockerfile
#3 DONE 0.0s
#6 [cpython 2/3] RUN echo a > /a.txt
#6 DONE 0.3s
#7 [3/3] RUN cat /a.txt
#7 CACHED
"""


def test_progress_of_a_failing_bake() -> None:
    ticks = iter(range(100))
    log = BuildLog(clock=lambda: float(next(ticks)))
    log.new_round(("a", "b"))
    for line in FAILING_BAKE.splitlines():
        log.feed(line)
    b, a = log.images["b"], log.images["a"]
    assert b.failed and b.status == "failed"
    assert "exit code: 1" in (b.error or "")
    assert b.log_tail[-2:] == ["0.204 boom", b.log_tail[-1]]
    assert b.total_steps == 1
    assert not a.failed and a.status == "building"
    assert a.steps == {("", "2"): "canceled"}


def test_rounds_keep_steps_built_earlier() -> None:
    log = BuildLog()
    log.new_round(("a", "b"))
    for line in FAILING_BAKE.splitlines():
        log.feed(line)
    log.new_round(("a",))
    for line in CACHED_BAKE.replace("#4 CACHED", "#4 DONE 3.1s").splitlines():
        log.feed(line)
    log.complete()
    a = log.images["a"]
    assert a.steps == {("", "2"): "done"} and a.status == "built"


def test_a_step_seen_without_a_state_is_running_and_a_done_step_stays_done() -> None:
    log = BuildLog()
    log.new_round(("a",))
    log.feed("#4 [a 2/2] RUN make")
    assert log.images["a"].steps == {("", "2"): "running"}
    log.feed("#4 DONE 1.5s")
    log.new_round(("a",))
    for line in ("#9 [a 2/2] RUN make", "#9 CACHED"):
        log.feed(line)
    assert log.images["a"].steps == {("", "2"): "done"}


def test_an_image_not_started_or_not_finished_took_no_time() -> None:
    assert ImageProgress("a").seconds == 0.0
    assert ImageProgress("a", started=None, finished=5.0).seconds == 0.0
    assert ImageProgress("a", started=2.0, finished=None).seconds == 0.0
    assert ImageProgress("a", started=2.0, finished=5.5).seconds == 3.5


def test_fully_cached_image() -> None:
    log = BuildLog()
    log.new_round(("a", "b"))
    for line in CACHED_BAKE.splitlines():
        log.feed(line)
    assert log.images["a"].status == "building"
    log.complete()
    assert log.images["a"].status == "cached"
    assert (log.images["a"].cached_steps, log.images["a"].total_steps) == (1, 1)


def test_each_image_gets_its_own_time_in_a_parallel_bake() -> None:
    """Recorded parallel bake: a finishes early, b compiles on; the end of the bake is not
    either image's time."""
    stream = """\
#4 [a 1/2] FROM docker.io/probe/base:1
#5 [b 1/3] FROM docker.io/probe/base:1
#6 [a 2/2] RUN echo a
#7 [b 2/3] RUN make
#6 DONE 0.4s
#7 12.1 compiling
#7 DONE 30.2s
#8 [b 3/3] RUN make install
#8 DONE 2.0s
"""
    ticks = iter([0.0, 0.0, 1.0, 1.0, 1.5, 31.0, 32.0, 33.0, 50.0, 50.0])
    log = BuildLog(clock=lambda: next(ticks))
    log.new_round(("a", "b"))
    for line in stream.splitlines():
        log.feed(line)
    log.complete()
    a, b = log.images["a"], log.images["b"]
    assert (a.status, b.status) == ("built", "built")
    assert (a.seconds, b.seconds) == (1.5, 33.0)


def test_plain_progress_says_each_change_once_for_logs() -> None:
    lines: list[str] = []
    announce = Announcer(lines.append)
    ticks = iter(range(100))
    log = BuildLog(clock=lambda: float(next(ticks)))
    log.new_round(("a", "b"))
    for line in FAILING_BAKE.splitlines():
        log.feed(line)
        announce(log)
    log.new_round(("a",))
    for line in CACHED_BAKE.splitlines():
        log.feed(line)
        announce(log)
    log.complete()
    announce(log)
    assert lines[:2] == ["a: started", "b: started"]
    assert lines[2] == (
        "b: failed after 6.0 s (0/1 steps, 0 cached): [b 2/2] RUN echo boom && false: "
        "executor failed running [/bin/sh -c echo boom && false]: exit code: 1"
    )
    assert lines[3:] == [f"a: cached in {log.images['a'].seconds:.1f} s (1/1 steps, 1 cached)"]


def test_single_target_names_and_stages() -> None:
    log = BuildLog()
    log.new_round(("alpha",))
    for line in SINGLE_TARGET_BAKE.splitlines():
        log.feed(line)
    log.complete()
    alpha = log.images["alpha"]
    assert alpha.steps == {
        ("cpython", "2"): "done",
        ("", "3"): "cached",
    }
    assert alpha.status == "built" and alpha.total_steps == 2


def _offline_profile(mini: MiniStack) -> None:
    mini.edit_yaml(
        "docker-compose.mcp.yml",
        lambda d: d["services"]["db"]["build"]["args"].update(
            BASE_IMAGE="${DB_BASE_IMAGE:-postgres:17}"
        ),
    )
    mini.put("profiles/offline.env", "DB_BASE_IMAGE=mcp-offline/postgres:17\n")


def test_plan_lists_compose_and_manifest_images(mini: MiniStack) -> None:
    plan = build_plan(load_stack(mini.root), None)
    assert {t.name: t.group for t in plan.targets} == {
        "db": "containers",
        "devcontainer": "containers",
        "filesystem": "mcp",
        "memory": "mcp",
    }
    assert plan.unavailable == ()
    db = next(t for t in plan.targets if t.name == "db")
    assert db.bases == ("postgres:17",) and db.tag == "mini-db:latest"


def test_the_stdio_bridge_is_built_with_the_servers(mini: MiniStack) -> None:
    """Host clients reach the stack's URL servers through the bridge: its image is planned like a
    stdio server's."""
    bridge = {
        "name": "bridge",
        "image": "mini-bridge:latest",
        "build": {"context": "..", "dockerfile": "Dockerfile"},
        "transport": "bridge",
        "network": "mcp-cluster",
    }
    mini.put("mcp/bridge/config/bridge.yml", yaml.safe_dump(bridge))
    mini.put("mcp/bridge/Dockerfile", "FROM node:22\n")
    found = {t.name: (t.tag, t.group) for t in build_plan(load_stack(mini.root), None).targets}
    assert found["bridge"] == ("mini-bridge:latest", "mcp")


def test_a_manifest_named_like_a_built_service_gets_an_mcp_prefix(mini: MiniStack) -> None:
    service = {"build": {"context": "containers/db"}, "image": "mini-memory-svc:latest"}
    mini.edit_yaml("docker-compose.mcp.yml", lambda d: d["services"].update(memory=service))
    plan = build_plan(load_stack(mini.root), None)
    found = {t.name: (t.tag, t.group, t.source) for t in plan.targets}
    assert found["memory"] == (
        "mini-memory-svc:latest",
        "containers",
        mini.folder / "docker-compose.mcp.yml",
    )
    assert found["mcp-memory"] == (
        "mini-memory:latest",
        "mcp",
        mini.folder / "mcp/memory/config/memory.yml",
    )


def test_the_bake_groups_every_image_and_each_kind(mini: MiniStack) -> None:
    groups = build_plan(load_stack(mini.root), None).bake_definition(None)["group"]
    assert groups == {
        "default": {"targets": ["db", "devcontainer", "filesystem", "memory"]},
        "containers": {"targets": ["db", "devcontainer"]},
        "mcp": {"targets": ["filesystem", "memory"]},
    }


def test_bake_definition(mini: MiniStack, tmp_path: Path) -> None:
    bundle = tmp_path / "ca.pem"
    bundle.write_text("pem")
    definition = build_plan(load_stack(mini.root), None).bake_definition(bundle)
    assert definition["group"]["mcp"]["targets"] == ["filesystem", "memory"]
    db = definition["target"]["db"]
    assert db["secret"] == [f"id=ca,src={bundle}"]
    assert db["args"] == {"BASE_IMAGE": "postgres:17"}
    assert db["context"] == str(mini.folder / "containers/db")
    assert (
        "secret"
        not in build_plan(load_stack(mini.root), None).bake_definition(None)["target"]["db"]
    )


def test_offline_profile_uses_stand_ins_and_reports_the_rest(mini: MiniStack) -> None:
    _offline_profile(mini)
    plan = build_plan(load_stack(mini.root, "offline"), "offline")
    db = next(t for t in plan.targets if t.name == "db")
    assert db.build.args["BASE_IMAGE"] == "mcp-offline/postgres:17"
    unavailable = {u.name: u.reason for u in plan.unavailable}
    assert set(unavailable) == {"devcontainer", "filesystem", "memory"}
    assert "debian:trixie-slim" in unavailable["devcontainer"]


def test_offline_a_pulled_service_without_a_stand_in_is_named_with_its_image(
    mini: MiniStack,
) -> None:
    _offline_profile(mini)
    mini.edit_yaml(
        "docker-compose.mcp.yml", lambda d: d["services"].update(cache={"image": "redis:7"})
    )
    plan = build_plan(load_stack(mini.root, "offline"), "offline")
    [cache] = [u for u in plan.unavailable if u.name == "cache"]
    assert (cache.image, cache.reason) == (
        "redis:7",
        "redis:7 is only in a registry and has no stand-in",
    )


def test_a_service_built_from_the_mcp_folder_is_an_mcp_image(mini: MiniStack) -> None:
    service = {"build": {"context": "mcp/memory"}, "image": "mini-bridge:latest"}
    mini.edit_yaml("docker-compose.mcp.yml", lambda d: d["services"].update(bridge=service))
    mini.put("containers/db/Dockerfile", DB_DOCKERFILE + "COPY --from=busybox:1.36 /bin/sh /sh\n")
    plan = build_plan(load_stack(mini.root), None)
    found = {t.name: t for t in plan.targets}
    assert found["bridge"].group == "mcp"
    assert found["db"].bases == ("postgres:17", "busybox:1.36")
    labels = plan.bake_definition(None)["target"]["db"]["labels"]
    assert labels == {"dev.mcp-cluster.image": "db"}


def test_select_by_group_and_name(mini: MiniStack) -> None:
    plan = build_plan(load_stack(mini.root), None)
    assert [t.name for t in plan.select("mcp").targets] == ["filesystem", "memory"]
    assert [t.name for t in plan.select(None, ("db",)).targets] == ["db"]
    with pytest.raises(ValueError, match="no image named 'nope'; choose from db"):
        plan.select(None, ("nope",))


def test_ca_bundle_detection(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    bundle = tmp_path / "corp.pem"
    bundle.write_text("pem")
    with pytest.raises(FileNotFoundError, match="--ca-bundle"):
        detect_ca_bundle(str(tmp_path / "missing.pem"))
    assert detect_ca_bundle(str(bundle)) == bundle
    for name in ("BUILD_CA_BUNDLE", "SSL_CERT_FILE", "REQUESTS_CA_BUNDLE", "PIP_CERT"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    assert detect_ca_bundle() == bundle
    for name in plan_module._CA_VARIABLES:
        monkeypatch.delenv(name, raising=False)
    system = tmp_path / "system.pem"
    system.write_text("pem")
    monkeypatch.setattr(plan_module, "_SYSTEM_BUNDLES", (str(tmp_path / "none.pem"), str(system)))
    assert detect_ca_bundle() == system
    monkeypatch.setattr(plan_module, "_SYSTEM_BUNDLES", (str(tmp_path / "none.pem"),))
    assert detect_ca_bundle() is None


def test_bake_may_read_only_what_its_targets_name(tmp_path: Path) -> None:
    """The bake gets `--allow=fs.read=` for each context, Dockerfile and secret file only."""
    bake = tmp_path / "docker-bake.json"
    bake.write_text(
        json.dumps(
            {
                "target": {
                    "a": {
                        "context": "/src/a",
                        "dockerfile": "/src/a/Dockerfile",
                        "secret": ["id=ca,src=/etc/ssl/certs/ca-certificates.crt"],
                    },
                    "b": {"secret": ["id=ca,src=/etc/ssl/certs/ca-certificates.crt"]},
                    "c": {},
                }
            }
        )
    )
    assert read_paths(bake) == [
        "/etc/ssl/certs/ca-certificates.crt",
        "/src/a",
        "/src/a/Dockerfile",
    ]


def test_a_stand_in_that_failed_stops_the_offline_build(monkeypatch: pytest.MonkeyPatch) -> None:
    """The images built on a stand-in would only fail later, on a missing base image."""
    from tasks.engine import seed
    from tasks.engine.bake import ImageResult
    from tasks.errors import EngineError
    from tasks.images.plan import BuildPlan

    failed = ImageResult("stand-in-node", "mcp-offline/node:22", "failed", 1.0, 0, 3, None,
                         "apt-get failed", ())  # fmt: skip
    seeded = seed.Seeded("mcp-offline/debian:trixie", "present", [], BuildPlan("offline", ()),
                         [failed])  # fmt: skip
    monkeypatch.setattr(seed, "seed_stand_ins", lambda client, folder, only: seeded)
    with pytest.raises(EngineError, match=r"mcp-offline/node:22 \(apt-get failed\)\. Fix: "):
        seed.seed_for_build(None, Path("."), frozenset())  # type: ignore[arg-type]


def test_both_free_threaded_images_build_one_cpython_stage(tmp_path: Path) -> None:
    """The dev container and python-experimental are two targets of one Dockerfile. Offline,
    where both pin the same CPython, their `cpython` stage gets the same arguments, so a build
    compiles CPython once; online each gets its own pin."""
    repo = copy_repo(tmp_path)
    for profile, same in (("offline", True), ("online", False)):
        targets = build_plan(load_stack(repo, profile), profile).bake_definition(None)["target"]
        dev, lab = targets["devcontainer"], targets["python-experimental"]
        assert (dev["dockerfile"], dev["context"]) == (lab["dockerfile"], lab["context"])
        assert (dev["target"], lab["target"]) == ("devcontainer", "python-experimental")
        assert (dev["args"] == lab["args"]) is same, (profile, dev["args"], lab["args"])


def test_selecting_names_keeps_their_reasons_and_only_theirs(mini: MiniStack) -> None:
    _offline_profile(mini)
    plan = build_plan(load_stack(mini.root, "offline"), "offline")
    picked = plan.select("containers", ("db", "memory"))
    assert picked.profile == "offline" and plan.select().profile == "offline"
    assert [t.name for t in picked.targets] == ["db"]
    assert [u.name for u in picked.unavailable] == ["memory"]
    assert [u.name for u in plan.select("mcp").unavailable] == [
        "devcontainer",
        "filesystem",
        "memory",
    ]


SHARED = """\
#1 [alpha 1/2] RUN make base
#1 DONE 1.0s
#1 [beta 1/2] RUN make base
#2 [beta 2/2] RUN cached thing
#2 CACHED
#3 [alpha 2/2] RUN fails
#3 ERROR: target alpha: exit code: XX
"""


def test_a_step_shared_by_two_images_counts_for_both() -> None:
    log = BuildLog()
    log.new_round(("alpha", "beta"))
    for line in SHARED.splitlines(keepends=True):
        log.feed(line)
    alpha, beta = log.images["alpha"], log.images["beta"]
    assert beta.steps == {("", "1"): "done", ("", "2"): "cached"}
    assert (beta.finished_steps, beta.cached_steps, beta.total_steps) == (2, 1, 2)
    assert alpha.steps == {("", "1"): "done", ("", "2"): "error"}
    assert alpha.error == "[alpha 2/2] RUN fails: target alpha: exit code: XX"
    assert alpha.finished_steps == 1


def test_a_target_never_mentioned_is_complete_under_its_name() -> None:
    log = BuildLog()
    log.new_round(("quiet",))
    log.complete()
    assert log.images["quiet"].name == "quiet" and log.images["quiet"].status == "cached"
    log.feed("ERROR: target quiet: failed to solve: BOX\n")
    assert log.images["quiet"].error == "failed to solve: BOX"
    log.feed("ERROR: something else X\n")
    assert log.failure == "ERROR: something else X"
    log.feed("ERROR: 1 error occurred\n")  # bake's summary after the cause
    assert log.failure == "ERROR: something else X"
    log.new_round(("quiet",))
    assert log.failure == "" and log.targets == ("quiet",) and log.steps == {}
