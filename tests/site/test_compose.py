"""docker-compose.yml cannot run here (no Docker engine), so it is checked by construction: its
commands are the Procfile's, its environment names are ones the settings read, its dependencies
exist, every long-running service has a health check, and nothing in it is a development default."""

import re
import shlex
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
APP_SERVICES = {"migrate", "web", "worker", "beat"}


def compose():
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def procfile() -> dict[str, str]:
    entries = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line and not line.startswith("#"):
            name, command = line.split(":", 1)
            entries[name.strip()] = command.strip()
    return entries


def settings_variables() -> set[str]:
    source = (ROOT / "attunement_site" / "settings.py").read_text()
    return set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", source))


def procfile_variables() -> set[str]:
    return set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "Procfile").read_text()))


def test_app_services_run_the_procfiles_commands():
    services = compose()["services"]
    processes = procfile()
    assert set(services) >= APP_SERVICES
    for name in APP_SERVICES:
        command = services[name]["command"]
        assert command[:2] == ["bin/proc", name], f"{name} must run `bin/proc {name}`"
        assert name in processes, f"the Procfile has no {name} line"
    for name, line in processes.items():
        executable = shlex.split(line)[0]
        assert executable in {"uvicorn", "celery", "python"}, f"{name}: {executable}"


def test_environment_names_are_ones_the_application_reads():
    known = settings_variables() | procfile_variables()
    services = compose()["services"]
    for name in APP_SERVICES:
        for variable in services[name].get("environment", {}):
            assert variable in known, f"{name} sets {variable}, which nothing reads"


def test_env_example_documents_every_variable():
    text = (ROOT / ".env.example").read_text()
    documented = set(re.findall(r"^#?\s*([A-Z][A-Z0-9_]+)=", text, flags=re.MULTILINE))
    needed = settings_variables() | procfile_variables()
    assert needed - documented == set(), "add these to .env.example"
    compose_text = (ROOT / "docker-compose.yml").read_text()
    assert set(re.findall(r"\$\{([A-Z_]+):\?", compose_text)) <= documented


def test_dependencies_exist_and_services_wait_for_what_they_need():
    services = compose()["services"]
    for name, service in services.items():
        for dependency in service.get("depends_on", {}):
            assert dependency in services, f"{name} depends on a missing {dependency}"
    for name in {"web", "worker", "beat"}:
        needs = services[name]["depends_on"]
        assert needs["migrate"]["condition"] == "service_completed_successfully"
        assert needs["redis"]["condition"] == "service_healthy"
    assert services["migrate"]["depends_on"]["postgres"]["condition"] == "service_healthy"


def test_long_running_services_have_health_checks_and_postgres_keeps_its_data():
    data = compose()
    for name, service in data["services"].items():
        if service.get("restart") == "no":
            continue  # a one-shot job (migrate) is not meant to stay up
        assert "healthcheck" in service and service["healthcheck"].get("test"), f"{name} has no health check"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in data["services"]["postgres"]["volumes"])
    assert "postgres-data" in data["volumes"]


def test_nothing_is_a_development_default():
    text = (ROOT / "docker-compose.yml").read_text()
    services = compose()["services"]
    assert "seed_demo" not in text
    assert "insecure" not in text.lower()
    for name in APP_SERVICES:
        environment = services[name].get("environment", {})
        assert str(environment.get("DEBUG", "false")).lower() == "false"
        assert "SECRET_KEY" not in environment, "secrets come from .env, never from the compose file"
    assert services["beat"]["deploy"]["replicas"] == 1
    assert services["turn"]["profiles"] == ["turn"]
    assert "--use-auth-secret" in services["turn"]["command"]
