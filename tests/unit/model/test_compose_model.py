"""The compose model read exactly: every syntax compose accepts for ports, volumes, env files,
environment, healthchecks, dependencies, networks, labels, secrets, commands and builds becomes
the same typed values, and every malformed one is refused naming its file, line and key."""

from __future__ import annotations

from ipaddress import ip_network
from pathlib import Path
from typing import Any

import pytest

from tasks.errors import StackError
from tasks.model.compose import (
    Build,
    ComposeFile,
    Dependency,
    Healthcheck,
    Mount,
    Network,
    Port,
    Unresolved,
    Volume,
    _healthcheck,
    load_compose,
    parse_build,
    project_name,
    volume_name,
)

COMPOSE = """\
name: Kitchen.Sink
services:
  web:
    image: nginx:1.27
    build:
      context: ./web
      dockerfile: Web.Dockerfile
      args: ["A=1", "B"]
      target: prod
    container_name: web-1
    hostname: webhost
    ports:
      - "8080:80"
      - "127.0.0.1:8443:443/udp"
      - "[::1]:9000:9000"
      - "3000"
      - target: 5000
        published: "5001"
        host_ip: 127.0.0.1
        protocol: udp
    volumes:
      - ./data:/data:ro,z
      - ~/cache:/cache
      - named:/named
      - /anonymous
      - type: bind
        source: /var/run/docker.sock
        target: /var/run/docker.sock
        read_only: true
    env_file:
      - a.env
      - path: b.env
        required: false
    environment:
      - FROM_SHELL
      - SET=${SET_VALUE}
      - EMPTY=
    healthcheck:
      test: curl -f http://localhost
      interval: 5s
    restart: always
    depends_on: [db]
    networks: [front, back]
    profiles: [web]
    privileged: true
    labels: ["a=1", "b"]
    secrets: [token, {source: cert, target: /run/cert}]
    x-security: {privileged: needs raw sockets}
    command: nginx -g daemon
    user: "1000"
    gpus: all
  db:
    image: postgres:17
    build: ./db
    env_file: c.env
    environment: {A: 1, B: null}
    healthcheck: {test: [NONE]}
    depends_on:
      web: {condition: service_healthy, required: false}
      cache: {condition: service_started}
    networks:
      back: {ipv4_address: 10.5.0.9}
      front:
    deploy:
      resources:
        reservations:
          devices:
            - {driver: nvidia, capabilities: [compute]}
            - {capabilities: [gpu]}
            - {driver: other, capabilities: [utility]}
    labels: {x: 2}
    command: [postgres, -c, "5"]
  cache:
    image: redis
    container_name: cache-${MISSING_NAME}x
    hostname: ${DEF_HOST:-cachehost}
    healthcheck: {test: [CMD, redis-cli, ping], disable: true}
networks:
  front: {}
  back:
    name: backnet
    external: true
    ipam:
      config:
        - subnet: 10.5.0.0/16
          ip_range: 10.5.128.0/17
          gateway: 10.5.0.1
        - subnet: fd00::/64
volumes:
  named: {}
  other: {name: fixed}
  ext: {external: true}
secrets:
  token: {environment: TOKEN}
  cert: {file: ./cert.pem}
"""


@pytest.fixture
def kitchen(tmp_path: Path) -> ComposeFile:
    path = tmp_path / "compose.yml"
    path.write_text(COMPOSE)
    return load_compose(path, {"SET_VALUE": "v"})


def test_project_networks_volumes_and_secrets(kitchen: ComposeFile) -> None:
    assert kitchen.project == "kitchensink"
    assert kitchen.folder == kitchen.path.parent
    assert list(kitchen.services) == ["web", "db", "cache"]
    assert kitchen.networks == {
        "default": Network("default", "kitchensink_default", False, False, (), (), ()),
        "front": Network("front", "kitchensink_front", False, False, (), (), ()),
        "back": Network(
            "back",
            "backnet",
            True,
            True,
            (ip_network("10.5.0.0/16"), ip_network("fd00::/64")),
            (ip_network("10.5.128.0/17"),),
            ("10.5.0.1",),
        ),
    }
    assert kitchen.network_names() == {"kitchensink_default", "kitchensink_front", "backnet"}
    assert kitchen.volumes == {
        "named": Volume("named", "kitchensink_named", False, False),
        "other": Volume("other", "fixed", True, False),
        "ext": Volume("ext", "kitchensink_ext", False, True),
    }
    assert kitchen.secrets == {"token": {"environment": "TOKEN"}, "cert": {"file": "./cert.pem"}}


def test_variables_used_and_unresolved(kitchen: ComposeFile) -> None:
    assert kitchen.unresolved == (
        Unresolved("MISSING_NAME", kitchen.path, 75, "services.cache.container_name"),
    )
    assert kitchen.used_variables == {"SET_VALUE", "MISSING_NAME", "DEF_HOST"}
    cache = kitchen.services["cache"]
    assert (cache.container_name, cache.hostname) == ("cache-x", "cachehost")


def test_short_and_long_syntax_service(kitchen: ComposeFile) -> None:
    web, folder = kitchen.services["web"], kitchen.folder
    assert web.image == "nginx:1.27"
    assert web.build == Build(
        folder / "web", folder / "web" / "Web.Dockerfile", {"A": "1", "B": ""}, "prod"
    )
    assert (web.container_name, web.hostname) == ("web-1", "webhost")
    assert web.ports == (
        Port("", "8080", "80", "tcp"),
        Port("127.0.0.1", "8443", "443", "udp"),
        Port("::1", "9000", "9000", "tcp"),
        Port("", "", "3000", "tcp"),
        Port("127.0.0.1", "5001", "5000", "udp"),
    )
    assert [port.loopback_only for port in web.ports] == [False, True, True, False, True]
    assert web.mounts == (
        Mount("bind", "./data", "/data", True),
        Mount("bind", "~/cache", "/cache", False),
        Mount("volume", "named", "/named", False),
        Mount("volume", "", "/anonymous", False),
        Mount("bind", "/var/run/docker.sock", "/var/run/docker.sock", True),
    )
    assert web.mounts_docker_socket()
    assert web.env_files == (folder / "a.env", folder / "b.env")
    assert web.environment == {"FROM_SHELL": None, "SET": "v", "EMPTY": ""}
    assert web.healthcheck == Healthcheck(
        ("curl -f http://localhost",), False, {"interval": "5s"}, shell=True
    )
    assert web.healthcheck.command == "curl -f http://localhost"
    assert web.restart == "always"
    assert web.depends_on == {"db": Dependency("service_started", True)}
    assert web.networks == {"front": None, "back": None}
    assert web.profiles == ("web",)
    assert web.privileged is True
    assert web.labels == {"a": "1", "b": ""}
    assert web.secrets == ("token", "cert")
    assert web.security == {"privileged": "needs raw sockets"}
    assert web.command == ("nginx", "-g", "daemon")
    assert web.user == "1000"
    assert web.devices == () and web.gpu_devices == [] and web.reserves_gpu


def test_mapping_syntax_service(kitchen: ComposeFile) -> None:
    db, folder = kitchen.services["db"], kitchen.folder
    assert db.build == Build(folder / "db", folder / "db" / "Dockerfile", {}, None)
    assert db.env_files == (folder / "c.env",)
    assert db.environment == {"A": "1", "B": None}
    assert db.healthcheck == Healthcheck(("NONE",), True, {})
    assert db.depends_on == {
        "web": Dependency("service_healthy", False),
        "cache": Dependency("service_started", True),
    }
    assert db.networks == {"back": "10.5.0.9", "front": None}
    assert db.labels == {"x": "2"}
    assert db.command == ("postgres", "-c", "5")
    assert db.gpu_devices == [
        {"driver": "nvidia", "capabilities": ["compute"]},
        {"capabilities": ["gpu"]},
    ]
    assert db.reserves_gpu and not db.mounts_docker_socket()
    assert (db.restart, db.user, db.privileged, db.ports, db.mounts) == (None, None, False, (), ())


@pytest.mark.parametrize(
    ("host_ip", "loopback"),
    [
        ("127.0.0.1", True),
        ("127.8.0.1", True),
        ("::1", True),
        ("[::1]", True),  # as a bracketed IPv6 address is written in a URL or a port spec
        ("", False),
        ("0.0.0.0", False),
        ("::", False),
        ("[::]", False),
        ("10.0.0.1", False),
        ("localhost", False),  # a name: the address it resolves to is not known here
    ],
)
def test_a_port_is_loopback_only_when_its_address_is_a_loopback_address(
    host_ip: str, loopback: bool
) -> None:
    assert Port(host_ip, "8080", "80").loopback_only is loopback


@pytest.mark.parametrize(
    ("test", "command", "runs"),
    [
        (["CMD", "pg_isready", "-U", "x"], ("pg_isready", "-U", "x"), True),
        (["CMD", "pg_isready", "-U", "x"], ("pg_isready", "-U"), False),
        (["CMD", "pg_isready"], ("pg_isready", "-U", "x"), False),
        (["CMD", "a", "b"], ("b", "a"), False),
        # A shell runs the string: as one word, it is not the same command.
        (["CMD-SHELL", "check-python"], ("check-python",), False),
        ("check-python", ("check-python",), False),
        (["NONE"], ("NONE",), False),
    ],
)
def test_a_healthcheck_runs_a_command_only_as_that_exact_argument_list(
    test: Any, command: tuple[str, ...], runs: bool
) -> None:
    assert _healthcheck({"test": test}).runs(command) is runs
    assert _healthcheck({"test": ["CMD", *command], "disable": True}).runs(command) is False
    assert _healthcheck({"test": ["CMD-SHELL", "x y"]}).shell
    assert not _healthcheck({"test": ["CMD", "x y"]}).shell


def test_defaults_of_a_bare_service(kitchen: ComposeFile) -> None:
    cache = kitchen.services["cache"]
    assert cache.healthcheck == Healthcheck(("redis-cli", "ping"), True, {})
    assert cache.build is None and cache.networks == {"default": None}
    assert (cache.env_files, cache.environment, cache.depends_on, cache.labels) == ((), {}, {}, {})
    assert (cache.command, cache.secrets, cache.security, cache.profiles) == ((), (), {}, ())
    assert not cache.reserves_gpu
    assert kitchen.gpu_service == "web"


def test_line_of_a_key_falls_back_to_its_parent(kitchen: ComposeFile) -> None:
    assert kitchen.line("services", "web", "ports", 1) == 14
    assert kitchen.line("services", "db", "networks", "back", "ipv4_address") == 62
    assert kitchen.line("services", "db", "nope") == kitchen.line("services", "db") == 52
    assert kitchen.line("nope") is None


@pytest.mark.parametrize(
    ("data", "folder", "expected"),
    [
        ({"name": "My App_1-x"}, "f", "myapp_1-x"),
        ({}, "Some.Folder", "somefolder"),
        ({"name": ""}, "dir", "dir"),
    ],
)
def test_project_name_is_normalised(data: dict[str, Any], folder: str, expected: str) -> None:
    assert project_name(data, Path("/x") / folder / "compose.yml") == expected


def test_volume_names() -> None:
    assert volume_name("data", None, "p") == "p_data"
    assert volume_name("data", {}, "p") == "p_data"
    assert volume_name("data", {"name": "fixed"}, "p") == "fixed"


def test_build_sections(tmp_path: Path) -> None:
    assert parse_build(None, tmp_path) is None
    assert parse_build(".", tmp_path) == Build(tmp_path, tmp_path / "Dockerfile", {}, None)
    assert parse_build({"args": {"A": 1}}, tmp_path) == Build(
        tmp_path, tmp_path / "Dockerfile", {"A": "1"}, None
    )
    assert parse_build({"context": "sub", "args": ["K=v=w"]}, tmp_path) == Build(
        tmp_path / "sub", tmp_path / "sub" / "Dockerfile", {"K": "v=w"}, None
    )


SERVICE = "services:\n  s:\n    image: x\n"


@pytest.mark.parametrize(
    ("text", "line", "key", "problem", "fix"),
    [
        (
            SERVICE + "    ports: ['1:2:3:4']\n",
            4,
            "services.s.ports",
            "cannot read port '1:2:3:4'",
            "write [HOST_IP:]HOST_PORT:CONTAINER_PORT",
        ),
        (
            SERVICE + "    ports: ['80:']\n",
            4,
            "services.s.ports",
            "cannot read port '80:'",
            "write [HOST_IP:]HOST_PORT:CONTAINER_PORT",
        ),
        (
            SERVICE + "    ports: ['a:80']\n",
            4,
            "services.s.ports",
            "cannot read port 'a:80'",
            "write [HOST_IP:]HOST_PORT:CONTAINER_PORT",
        ),
        (
            SERVICE + "    volumes: ['a:b:c:d']\n",
            4,
            "services.s.volumes",
            "cannot read volume 'a:b:c:d'",
            "write SOURCE:TARGET[:ro]",
        ),
        (
            SERVICE + "    networks:\n      n: {ipv4_address: 10.0.0.300}\nnetworks:\n  n: {}\n",
            5,
            "services.s.networks.n.ipv4_address",
            "'10.0.0.300' is not an IPv4 address",
            "write four numbers 0-255, e.g. 172.20.0.20",
        ),
        (
            SERVICE + "networks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/33}]}\n",
            6,
            "networks.n.ipam",
            "network n: '10.0.0.0/33' does not appear to be an IPv4 or IPv6 network",
            "write subnets and ip_range as CIDR, e.g. 172.20.0.0/16",
        ),
        (
            SERVICE + "networks:\n  n:\n    ipam: {config: [{subnet: 10.0.0.0/8, ip_range: x}]}\n",
            6,
            "networks.n.ipam",
            "network n: 'x' does not appear to be an IPv4 or IPv6 network",
            "write subnets and ip_range as CIDR, e.g. 172.20.0.0/16",
        ),
        (
            SERVICE + "    hostname: ${H\n",
            4,
            "services.s.hostname",
            "unterminated ${ in '${H'",
            "write ${NAME}, ${NAME:-default} or ${NAME:?message}; a literal $ is $$",
        ),
        (
            SERVICE + "    hostname: ${H:?set H}\n",
            4,
            "services.s.hostname",
            "required variable H is missing: set H",
            "define H in devcontainer.env or the shell, or give a default ${H:-value}",
        ),
        (
            "services:\n  db:\n    image: x\n    x-verify: {port: 80, routes: {/x: nope}}\n",
            4,
            "services.db.x-verify.routes./x",
            "route /x leads to 'nope', which is not a service of this file",
            "name one of: db",
        ),
        (
            "services: {}\n",
            None,
            "services",
            "no services defined",
            "add a `services:` mapping",
        ),
        (
            "- a\n",
            None,
            None,
            "a compose file must be a mapping",
            "start with `services:`",
        ),
    ],
)
def test_malformed_compose_is_refused_precisely(
    tmp_path: Path, text: str, line: int | None, key: str | None, problem: str, fix: str
) -> None:
    path = tmp_path / "compose.yml"
    path.write_text(text)
    with pytest.raises(StackError) as refused:
        load_compose(path, {})
    error = refused.value
    assert (error.path, error.line, error.key, error.problem, error.fix) == (
        path,
        line,
        key,
        problem,
        fix,
    )
