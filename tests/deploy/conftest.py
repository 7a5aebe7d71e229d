"""The deployment files, read once per test (each test may change its own copy)."""

import pytest
import yaml

from tests.deploy.compose_lint import ImageFacts, interpolate, interpolation_names
from tests.deploy.dockerfile_lint import parse
from tests.deploy.inventory import (
    COMPOSE,
    COMPOSE_SUBSTITUTIONS,
    DOCKERFILE,
    ENV_EXAMPLE,
    SYSTEMD_DIR,
    env_file_entries,
    project_facts,
)


@pytest.fixture
def facts():
    return project_facts()


@pytest.fixture
def dockerfile_text():
    return DOCKERFILE.read_text()


@pytest.fixture
def image(dockerfile_text):
    return ImageFacts.of(parse(dockerfile_text)[1][-1])


@pytest.fixture
def env_example_text():
    return ENV_EXAMPLE.read_text()


@pytest.fixture
def env_example(env_example_text):
    return env_file_entries(env_example_text)


@pytest.fixture
def compose_variables():
    return interpolation_names(COMPOSE.read_text())


@pytest.fixture
def compose():
    return interpolate(yaml.safe_load(COMPOSE.read_text()), COMPOSE_SUBSTITUTIONS)


@pytest.fixture
def units():
    return {str(path.relative_to(SYSTEMD_DIR)): path.read_text() for path in SYSTEMD_DIR.rglob("*") if path.is_file()}
