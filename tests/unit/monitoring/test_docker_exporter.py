"""The per-container exporter (`containers/monitoring/exporters/docker_exporter.py`): what
`docker inspect` and the engine's stats say, as cAdvisor-named metrics; its engine client's
parsing. Run against the real engine in tests/integration/test_monitoring.py."""

from __future__ import annotations

import json
import urllib.parse
from typing import Any

import docker_exporter
import engine_api
import pytest
import serving
from prometheus_client import CollectorRegistry

ID = "a" * 64


def inspected(status: str = "running", health: str | None = "healthy") -> dict[str, Any]:
    state: dict[str, Any] = {"Status": status, "StartedAt": "2026-12-07T09:22:47.286798817Z"}
    if health is not None:
        state["Health"] = {"Status": health}
    return {
        "Id": ID,
        "Name": "/mcp-cluster-mariadb-1",
        "RestartCount": 2,
        "State": state,
        "Config": {"Labels": {"com.docker.compose.service": "mariadb"}},
    }


def stats(memory_stats: dict[str, Any]) -> dict[str, Any]:
    return {
        "cpu_stats": {"cpu_usage": {"total_usage": 3_500_000_000}},
        "memory_stats": memory_stats,
        "networks": {
            "eth0": {"rx_bytes": 100, "tx_bytes": 40},
            "eth1": {"rx_bytes": 5, "tx_bytes": 1},
        },
    }


@pytest.mark.parametrize(
    "memory",
    [
        {"usage": 1000, "limit": 4000, "stats": {"total_inactive_file": 300, "cache": 350}},  # v1
        {"usage": 1000, "limit": 4000, "stats": {"inactive_file": 300}},  # cgroup v2
    ],
)
def test_a_running_container_s_figures(memory: dict[str, Any]) -> None:
    sample = docker_exporter.sample(inspected(), stats(memory))
    assert sample == docker_exporter.Sample(
        "mcp-cluster-mariadb-1", "mariadb", True, True, 2, 1796635367.286798,
        3.5, 1000.0, 700.0, 4000.0, 105.0, 41.0,
    )  # fmt: skip


def test_a_stopped_container_keeps_its_state_and_restarts_only() -> None:
    sample = docker_exporter.sample(inspected("exited", "unhealthy"), None)
    assert (sample.running, sample.healthy, sample.restarts, sample.memory) == (False, False, 2, 0)
    names = {f.name: f for f in docker_exporter.families([sample])}
    assert [s.value for s in names["container_running"].samples] == [0.0]
    assert names["container_memory_usage_bytes"].samples == []
    assert [s.value for s in names["container_restarts"].samples] == [2.0]


def test_a_container_without_healthcheck_has_no_health_series() -> None:
    sample = docker_exporter.sample(inspected(health=None), stats({"usage": 10}))
    assert sample.healthy is None
    families = {f.name: f for f in docker_exporter.families([sample])}
    assert families["container_healthy"].samples == []
    assert families["container_memory_working_set_bytes"].samples[0].value == 10.0


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("2026-12-07T09:22:47.286798817Z", 1796635367.286798),
        ("2026-12-07T09:22:47Z", 1796635367.0),
        ("0001-01-01T00:00:00Z", 0.0),
        ("", 0.0),
    ],
)
def test_engine_times(text: str, seconds: float) -> None:
    assert docker_exporter.timestamp(text) == pytest.approx(seconds)


def test_the_project_s_containers_are_listed_by_compose_s_labels() -> None:
    path = docker_exporter.project_filter("mcp-cluster")
    query = urllib.parse.parse_qs(urllib.parse.urlparse(path).query)
    assert query["all"] == ["1"]
    assert json.loads(query["filters"][0]) == {
        "label": ["com.docker.compose.project=mcp-cluster", "com.docker.compose.oneoff=False"]
    }


class Engine:
    """The engine API's answers for a running and a created container (pure data: the real
    engine is in the integration tier)."""

    def __init__(self) -> None:
        self.asked: list[str] = []
        self.down = False

    def get(self, path: str) -> Any:
        self.asked.append(path.split("?", maxsplit=1)[0])
        if self.down:
            raise engine_api.EngineError("GET: connection refused")
        if path.startswith("/containers/json"):
            return [{"Id": "run"}, {"Id": "new"}, {"Id": "gone"}]
        if path == "/containers/gone/json":
            raise engine_api.EngineError("HTTP 404")
        if path.endswith("/json"):
            return inspected("running" if "/run/" in path else "created", None)
        return stats({"usage": 50})


def test_each_refresh_asks_stats_of_running_containers_only_and_skips_removed_ones() -> None:
    engine = Engine()
    registry = CollectorRegistry()
    collector = docker_exporter.ContainerCollector("mcp-cluster", engine.get)
    registry.register(collector)
    labels = {"name": "mcp-cluster-mariadb-1", "service": "mariadb"}
    assert registry.get_sample_value("container_memory_usage_bytes", labels) == 50
    assert sorted(engine.asked) == sorted(
        ["/containers/json", "/containers/run/json", "/containers/new/json",
         "/containers/gone/json", "/containers/run/stats"]
    )  # fmt: skip
    asked = len(engine.asked)
    registry.get_sample_value("container_running", labels)
    assert len(engine.asked) == asked, "a scrape within REFRESH_SECONDS reuses the samples"


def test_an_engine_that_stops_answering_keeps_the_last_samples_and_counts_the_failure(
    capsys: pytest.CaptureFixture[str],
) -> None:
    engine = Engine()
    collector = docker_exporter.ContainerCollector("mcp-cluster", engine.get)
    registry = CollectorRegistry()
    registry.register(collector)
    assert registry.get_sample_value("docker_exporter_refresh_errors_total") == 0
    engine.down = True
    collector.taken = -docker_exporter.REFRESH_SECONDS
    labels = {"name": "mcp-cluster-mariadb-1", "service": "mariadb"}
    assert registry.get_sample_value("container_memory_usage_bytes", labels) == 50
    assert registry.get_sample_value("docker_exporter_refresh_errors_total") == 1
    assert "connection refused" in capsys.readouterr().err


MOUNTINFO = f"""\
1234 1200 0:52 / / rw,relatime - overlay overlay rw
1240 1234 254:0 /var/lib/docker/containers/{ID}/resolv.conf /etc/resolv.conf rw - ext4 /dev/vda rw
1241 1234 254:0 /var/lib/docker/containers/{ID}/hostname /etc/hostname rw - ext4 /dev/vda rw
"""


def test_the_own_container_is_found_in_mountinfo() -> None:
    assert engine_api.own_container_id(MOUNTINFO) == ID
    assert engine_api.own_container_id("1 0 0:1 / / rw - ext4 /dev/vda rw\n") == ""


def test_an_unanswered_engine_request_is_an_engine_error(tmp_path: Any) -> None:
    with pytest.raises(engine_api.EngineError) as refused:
        engine_api.get("/version", str(tmp_path / "no.sock"))
    assert str(refused.value).startswith("GET /version: ")


def test_the_healthcheck_path_collects_nothing_and_every_other_path_serves_the_metrics() -> None:
    engine = Engine()
    registry = CollectorRegistry()
    registry.register(docker_exporter.ContainerCollector("mcp-cluster", engine.get))
    app = serving.app(registry)
    answers: list[str] = []

    def get(path: str) -> bytes:
        body = app({"PATH_INFO": path, "QUERY_STRING": "", "REQUEST_METHOD": "GET"},
                   lambda status, headers: answers.append(status))  # fmt: skip
        return b"".join(body)

    assert get("/healthy") == b"ok\n" and engine.asked == []
    assert b'container_running{name="mcp-cluster-mariadb-1",service="mariadb"} 1.0' in get(
        "/metrics"
    )
    assert answers == ["200 OK", "200 OK"]
