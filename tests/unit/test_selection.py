"""Which services a run starts: compose profiles, `--tier`, and the services that need one left
out; each left-out service says why."""

from __future__ import annotations

from typing import Any

import pytest

from tasks.errors import UsageError
from tasks.model.stack import load_stack
from tasks.selection import (
    MAX_TIER,
    TIER_LABEL,
    Selection,
    require_service,
    select_services,
    tier_of,
)
from tests.ministack import MiniStack

COMPOSE = "docker-compose.mcp.yml"


def _service(**extra: Any) -> dict[str, Any]:
    return {"image": "busybox:1", "restart": "unless-stopped", **extra}


@pytest.fixture
def tiered(mini: MiniStack) -> MiniStack:
    """The mini stack with tiers, a compose profile and services that need others."""

    def change(data: dict[str, Any]) -> None:
        services = data["services"]
        services["db"]["labels"] = {TIER_LABEL: "1"}
        services["devcontainer"]["labels"] = {TIER_LABEL: "2"}
        services["grafana"] = _service(profiles=["grafana", "monitoring"], labels={TIER_LABEL: "3"})
        # listed before what it needs: found only when the chain is followed again
        services["viewer"] = _service(
            labels={TIER_LABEL: "4"},
            depends_on={"dashboards": {"condition": "service_started"}},
        )
        services["dashboards"] = _service(
            labels={TIER_LABEL: "3"}, depends_on={"grafana": {"condition": "service_started"}}
        )
        services["extras"] = _service(
            depends_on={"grafana": {"condition": "service_started", "required": False}},
        )

    mini.edit_yaml(COMPOSE, change)
    return mini


def test_a_profile_left_off_leaves_out_its_services_and_those_needing_them(
    tiered: MiniStack,
) -> None:
    stack = load_stack(tiered.root)
    selection = select_services(stack, None)
    assert selection == Selection(
        ("db", "devcontainer", "extras"),
        (),
        {
            "grafana": "behind compose profile grafana/monitoring (not enabled)",
            "dashboards": "needs grafana, which is not started",
            "viewer": "needs dashboards, which is not started",
        },
    )
    assert list(selection.not_exercised) == ["grafana", "dashboards", "viewer"]


def test_enabling_one_of_a_services_profiles_starts_it(tiered: MiniStack) -> None:
    stack = load_stack(tiered.root)
    selection = select_services(stack, None, ("monitoring",))
    assert selection.services == (
        "db", "devcontainer", "grafana", "viewer", "dashboards", "extras"
    )  # fmt: skip
    assert selection.compose_profiles == ("monitoring",) and selection.not_exercised == {}


@pytest.mark.parametrize(
    ("tier", "started"),
    [
        (1, ("db",)),
        (2, ("db", "devcontainer")),
        (3, ("db", "devcontainer", "grafana", "dashboards")),
        (4, ("db", "devcontainer", "grafana", "viewer", "dashboards", "extras")),
    ],
)
def test_a_tier_starts_the_services_up_to_it(
    tiered: MiniStack, tier: int, started: tuple[str, ...]
) -> None:
    selection = select_services(load_stack(tiered.root), None, ("grafana",), tier)
    assert selection.services == started
    if tier < 4:
        assert selection.not_exercised["extras"] == f"tier 4 is above --tier {tier}"


def test_an_unknown_compose_profile_is_refused(tiered: MiniStack) -> None:
    with pytest.raises(
        ValueError, match=r"\Ano compose profile 'graphana' in docker-compose.mcp.yml\Z"
    ):
        select_services(load_stack(tiered.root), None, ("grafana", "zz", "graphana"))


def test_an_untiered_or_odd_tier_counts_as_the_last(tiered: MiniStack) -> None:
    tiered.edit_yaml(
        COMPOSE, lambda d: d["services"]["grafana"]["labels"].update({TIER_LABEL: "3a"})
    )
    stack = load_stack(tiered.root)
    assert MAX_TIER == 4
    assert [tier_of(stack, name) for name in ("db", "devcontainer", "dashboards", "extras")] == [
        1,
        2,
        3,
        4,
    ]
    assert tier_of(stack, "grafana") == 4


def test_a_service_that_is_not_one_is_refused_with_the_choice(tiered: MiniStack) -> None:
    stack = load_stack(tiered.root)
    require_service(stack, "db")
    with pytest.raises(UsageError) as refused:
        require_service(stack, "dbb")
    assert str(refused.value) == (
        "no service 'dbb' in .devcontainer/docker-compose.mcp.yml; choose one of "
        "dashboards, db, devcontainer, extras, grafana, viewer"
    )


def test_a_service_the_image_profile_cannot_run_is_left_out_with_why(tiered: MiniStack) -> None:
    tiered.put("profiles/offline.env", "# offline\n")
    tiered.put("profiles/online.env", "# online\n")
    stack = load_stack(tiered.root, "offline")
    selection = select_services(stack, "offline")
    busybox = "cannot run with profile offline: busybox:1 is only in a registry and has no stand-in"
    assert selection == Selection(
        (),
        (),
        {
            "grafana": "behind compose profile grafana/monitoring (not enabled)",
            "db": "cannot run with profile offline: base image postgres:17 is only in a registry",
            "devcontainer": (
                "cannot run with profile offline: base image debian:trixie-slim is only in a "
                "registry"
            ),
            "viewer": busybox,
            "dashboards": busybox,
            "extras": busybox,
        },
    )
    online = select_services(load_stack(tiered.root, "online"), "online")
    assert "db" in online.services
