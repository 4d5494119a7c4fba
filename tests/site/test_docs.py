"""The README stays the operator's source of truth for configuration."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def variables_read_by_settings() -> set[str]:
    """Every environment variable an operator may set: the settings', the Procfile's, the compose file's."""
    source = (ROOT / "attunement_site" / "settings.py").read_text()
    names = set(re.findall(r"env\.\w+\(\s*\"([A-Z][A-Z0-9_]+)\"", source))
    names |= set(re.findall(r"\$\{([A-Z_]+)", (ROOT / "Procfile").read_text()))
    names |= set(re.findall(r"\$\{([A-Z_]+):\?", (ROOT / "docker-compose.yml").read_text()))
    return names


def test_every_environment_variable_is_in_the_readme_table():
    readme = (ROOT / "README.md").read_text()
    documented = set(re.findall(r"^\| `([A-Z][A-Z0-9_]+)` \|", readme, flags=re.MULTILINE))
    names = variables_read_by_settings()
    assert {"DEBUG", "DATABASE_URL", "REDIS_URL", "SECRET_KEY"} <= names
    assert names - documented == set(), "add these variables to the README's configuration table"
    assert documented - names == set(), "the README documents variables the settings no longer read"


def test_readme_opens_with_the_two_commands():
    readme = (ROOT / "README.md").read_text()
    first_block = readme.split("```sh", 1)[1].split("```", 1)[0]
    assert "make run" in first_block
    assert "make test" in first_block
