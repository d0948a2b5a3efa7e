"""The monitoring tier: dashboards generated from their source, and Prometheus scraping exactly
the services that serve metrics."""

from __future__ import annotations

from collections.abc import Iterator

from tasks.model.generated import differences
from tasks.model.prometheus import load_config
from tasks.model.stack import Stack
from tasks.model.verifyspec import KEY as VERIFY_KEY
from tasks.monitoring.dashboards import dashboards_folder, rendered_files
from tasks.rules.base import Hit, Severity, rule

SOURCE = "tasks/monitoring/dashboards.py"
_REGENERATE = "run `invoke monitoring.dashboards`"


@rule("MON001", "Grafana dashboard differs from its source", Severity.ERROR)
def dashboards(stack: Stack) -> Iterator[Hit]:
    """The dashboards Grafana provisions are generated from one source (`invoke
    monitoring.dashboards`): a missing or hand-edited file fails."""
    folder = dashboards_folder(stack)
    if folder is None:
        return
    for found in differences(rendered_files(folder)):
        if not found.current:
            yield Hit(found.path, None, f"{found.path.name} is missing", _REGENERATE)
        else:
            yield Hit(
                found.path,
                found.line,
                f"{found.path.name} differs from what {SOURCE} generates",
                f"edit the panels in {SOURCE} and {_REGENERATE} (the JSON is generated)",
            )


@rule("MON002", "Prometheus and the services' metrics disagree", Severity.ERROR)
def scrape_targets(stack: Stack) -> Iterator[Hit]:
    """Every service that declares `x-verify: {metrics: PORT}` is a target SERVICE:PORT of the
    Prometheus configuration (the service with `x-verify.targets`), and every target there is
    a service of the compose file with that metrics port."""
    services = stack.compose.services
    for prometheus in (s for s in services.values() if s.verify.targets is not None):
        config = load_config(prometheus, stack.compose.folder)
        if config is None:
            continue
        scraped = {target for job in config.jobs for target in job.targets}
        for name, service in services.items():
            port = service.verify.metrics
            if port is not None and f"{name}:{port}" not in scraped:
                yield Hit(
                    stack.compose.path,
                    stack.compose.line("services", name, VERIFY_KEY, "metrics"),
                    f"{name} serves metrics on port {port}, but {stack.rel(config.path)} "
                    f"has no target {name}:{port}",
                    f"add a scrape job with the target {name}:{port} (a dns_sd_configs entry "
                    "for a service behind a compose profile)",
                )
        for job in config.jobs:
            for target in job.targets:
                host, _, scraped_port = target.rpartition(":")
                declared = services[host].verify.metrics if host in services else None
                if declared is not None and str(declared) == scraped_port:
                    continue
                if host not in services:
                    problem, fix = (
                        f"{host} is no service of {stack.rel(stack.compose.path)}",
                        "scrape a compose service by its name (SERVICE:PORT), or remove the job",
                    )
                elif declared is None:
                    problem = f"{host} declares no metrics port"
                    fix = (
                        f"declare x-verify: {{metrics: {scraped_port}}} on {host} "
                        "in the compose file"
                    )
                else:
                    problem, fix = (
                        f"{host} serves metrics on port {declared}",
                        f"scrape {host}:{declared}",
                    )
                yield Hit(
                    config.path, job.line, f"job {job.name} scrapes {target}, but {problem}", fix
                )
