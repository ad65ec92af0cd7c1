"""The deployment files, checked without a Docker engine: ``docker-compose.yml`` read the way
compose reads it (YAML, anchors, ``${VAR...}`` interpolation), its settings read the way
TalentMatch reads them, and the package built from exactly what the Dockerfile copies."""

from __future__ import annotations

import fnmatch
import http.server
import importlib.metadata
import importlib.util
import json
import os
import re
import secrets
import shutil
import signal
import subprocess
import sys
import threading
import time
import tomllib
import zipfile
from collections.abc import Iterator, Mapping
from functools import partial
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
import yaml
from pydantic import BaseModel

from core.settings import Settings
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
ES_DOCKERFILE = ROOT / "deploy" / "elasticsearch" / "Dockerfile"
SERVICES = ("api", "worker", "postgres", "elasticsearch", "redis")
BACKENDS = ("postgres", "elasticsearch", "redis")
REQUIRED_SECRETS = (
    "TALENTMATCH_AUTH__KEY_PEPPER",
    "TALENTMATCH_AUTH__DATA_KEY",
    "POSTGRES_PASSWORD",
    "ELASTIC_PASSWORD",
)
# Environment names that hold a secret, whatever the service.
_SECRET_NAME = re.compile(r"PASSWORD|PEPPER|DATA_KEY|API_KEY|SECRET|TOKEN")

# Compose's interpolation: $$, ${NAME}, ${NAME:-default}, ${NAME-default}, ${NAME:?error},
# ${NAME?error}, and $NAME.
_VARIABLE = re.compile(
    r"\$(?:(?P<escaped>\$)"
    r"|\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?])(?P<arg>[^}]*))?\}"
    r"|(?P<bare>[A-Za-z_][A-Za-z0-9_]*))"
)


class MissingVariable(Exception):
    """What compose says when a ``${NAME:?message}`` variable is unset or empty."""


def interpolate(value: str, env: Mapping[str, str]) -> str:
    """``value`` with its variables replaced as ``docker compose`` replaces them."""

    def replace(match: re.Match[str]) -> str:
        if match["escaped"]:
            return "$"
        name = match["name"] or match["bare"]
        op, arg = match["op"], match["arg"] or ""
        current = env.get(name)
        missing = current is None or (op is not None and op.startswith(":") and current == "")
        if op in ("-", ":-"):
            return arg if missing else str(current)
        if op in ("?", ":?"):
            if missing:
                raise MissingVariable(f"{name}: {arg}")
            return str(current)
        return current or ""

    return _VARIABLE.sub(replace, value)


def interpolated(node: Any, env: Mapping[str, str]) -> Any:
    """Every string in a parsed compose document, interpolated."""
    if isinstance(node, str):
        return interpolate(node, env)
    if isinstance(node, list):
        return [interpolated(item, env) for item in node]
    if isinstance(node, dict):
        return {key: interpolated(item, env) for key, item in node.items()}
    return node


def compose() -> dict[str, Any]:
    """docker-compose.yml as parsed YAML, anchors and merge keys resolved, not interpolated."""
    document = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(document, dict)
    return document


def environment_of(service: Mapping[str, Any]) -> dict[str, str]:
    """A service's environment (map or list form) as a dict."""
    environment = service.get("environment") or {}
    if isinstance(environment, list):
        return dict(item.split("=", 1) for item in environment)
    return {str(key): str(value) for key, value in environment.items()}


def strong_secrets() -> dict[str, str]:
    """A filled-in .env: one fresh secret per required variable."""
    return {name: secrets.token_hex(32) for name in REQUIRED_SECRETS}


def settings_field(name: str) -> str | None:
    """The dotted path of the Settings field a ``TALENTMATCH_*`` variable sets, or None when it
    sets none (pydantic-settings ignores unknown names, so a typo would pass silently)."""
    config = Settings.model_config
    prefix, delimiter = config["env_prefix"], config["env_nested_delimiter"]
    assert prefix and delimiter
    if not name.startswith(prefix):
        return None
    model: type[BaseModel] = Settings
    path: list[str] = []
    parts = name[len(prefix) :].lower().split(delimiter)
    for index, part in enumerate(parts):
        field = model.model_fields.get(part)
        if field is None:
            return None
        path.append(part)
        annotation = field.annotation
        nested = isinstance(annotation, type) and issubclass(annotation, BaseModel)
        if index < len(parts) - 1:
            if not nested:
                return None
            assert isinstance(annotation, type)
            model = annotation
        elif nested:
            return None  # a whole group is not one variable
    return ".".join(path)


# --- the services -----------------------------------------------------------------------


def test_every_service_is_there_with_a_health_check() -> None:
    services = compose()["services"]
    assert set(SERVICES) <= set(services)
    for name in SERVICES:
        check = services[name].get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_api_and_workers_start_only_when_their_backends_are_healthy() -> None:
    services = compose()["services"]
    for name in ("api", "worker"):
        depends_on = services[name]["depends_on"]
        assert isinstance(depends_on, dict), f"{name}: depends_on needs conditions"
        for backend in BACKENDS:
            assert depends_on.get(backend, {}).get("condition") == "service_healthy", (
                name,
                backend,
            )


def test_api_serves_on_every_interface_with_configurable_workers() -> None:
    api = compose()["services"]["api"]
    env = strong_secrets()
    assert interpolated(api["command"], env) == [
        "talentmatch", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "4"
    ]  # fmt: skip
    command = interpolated(api["command"], {**env, "API_WORKERS": "8"})
    assert command[command.index("--workers") + 1] == "8"
    assert any(interpolate(port, env).endswith(":8000") for port in api["ports"])


def test_workers_run_the_worker_command_with_replicas() -> None:
    worker = compose()["services"]["worker"]
    env = strong_secrets()
    assert interpolated(worker["command"], env) == ["talentmatch", "worker"]
    assert int(interpolate(str(worker["deploy"]["replicas"]), env)) >= 2
    assert int(interpolate(str(worker["deploy"]["replicas"]), {"WORKER_REPLICAS": "5"})) == 5
    # Several workers share one container name otherwise, and compose refuses to scale.
    assert "container_name" not in worker


def test_postgres_is_15_or_newer_and_redis_is_7() -> None:
    services = compose()["services"]
    postgres_tag = services["postgres"]["image"].rsplit(":", 1)[1]
    assert int(postgres_tag.split(".")[0].split("-")[0]) >= 15
    redis_tag = services["redis"]["image"].rsplit(":", 1)[1]
    assert redis_tag.split(".")[0].split("-")[0] == "7"


def test_named_volumes_are_declared() -> None:
    document = compose()
    declared = set(document.get("volumes") or {})
    used = set()
    for service in document["services"].values():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0] if isinstance(volume, str) else volume["source"]
            if not source.startswith((".", "/", "~")):
                used.add(source)
    assert used, "no named volume: the data would live in the containers"
    assert used <= declared
    for name in ("api", "worker", "postgres", "elasticsearch"):
        assert document["services"][name].get("volumes"), name


def compose_command() -> list[str] | None:
    """``docker compose`` (v2) or ``docker-compose`` (v1), whichever is installed."""
    docker = shutil.which("docker")
    if (
        docker
        and subprocess.run([docker, "compose", "version"], capture_output=True).returncode == 0
    ):
        return [docker, "compose"]
    legacy = shutil.which("docker-compose")
    return [legacy] if legacy else None


@pytest.mark.skipif(compose_command() is None, reason="no docker compose here")
def test_compose_itself_accepts_the_file_and_refuses_it_without_secrets(tmp_path: Path) -> None:
    command = compose_command()
    assert command
    base = [*command, "--file", str(COMPOSE_FILE), "--project-directory", str(ROOT)]
    clean = {key: value for key, value in os.environ.items() if key not in REQUIRED_SECRETS}
    # No .env is read from the project directory unless one is there; point it elsewhere.
    clean["COMPOSE_PROJECT_NAME"] = "talentmatch-test"
    env_file = tmp_path / "empty.env"
    env_file.write_text("", encoding="utf-8")
    base += ["--env-file", str(env_file)]
    refused = subprocess.run(
        [*base, "config", "--quiet"], env=clean, capture_output=True, text=True
    )
    assert refused.returncode != 0
    assert any(secret in refused.stderr for secret in REQUIRED_SECRETS)
    accepted = subprocess.run(
        [*base, "config"], env={**clean, **strong_secrets()}, capture_output=True, text=True
    )
    assert accepted.returncode == 0, accepted.stderr
    resolved = yaml.safe_load(accepted.stdout)
    assert set(SERVICES) <= set(resolved["services"])


# --- settings and secrets ---------------------------------------------------------------


def test_settings_field_walks_nested_groups_and_rejects_typos() -> None:
    # The checker itself: real names map to fields, near misses to nothing.
    assert settings_field("TALENTMATCH_SEARCH__ELASTICSEARCH__URL") == "search.elasticsearch.url"
    assert settings_field("TALENTMATCH_REDIS_URL") == "redis_url"
    assert settings_field("TALENTMATCH_SEARCH__ELASTICSERCH__URL") is None
    assert settings_field("TALENTMATCH_SEARCH__ELASTICSEARCH__URL__X") is None
    assert settings_field("TALENTMATCH_SEARCH__ELASTICSEARCH") is None
    assert settings_field("TALENTMATCH_REDIS__URL") is None


def test_every_talentmatch_variable_is_a_settings_field() -> None:
    names = {
        name
        for service in compose()["services"].values()
        for name in environment_of(service)
        if name.startswith("TALENTMATCH_")
    }
    assert "TALENTMATCH_SEARCH__ELASTICSEARCH__URL" in names
    unknown = sorted(name for name in names if settings_field(name) is None)
    assert unknown == [], f"not settings of core.settings.Settings: {unknown}"


def test_the_compose_environment_configures_production_on_elasticsearch_and_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    env = strong_secrets()
    services = interpolated(compose()["services"], env)
    for name in ("api", "worker"):
        for variable in [key for key in os.environ if key.startswith("TALENTMATCH_")]:
            monkeypatch.delenv(variable)
        for variable, value in environment_of(services[name]).items():
            monkeypatch.setenv(variable, value)
        settings = Settings()
        assert settings.environment == "production"
        assert settings.auth.key_pepper.get_secret_value() == env["TALENTMATCH_AUTH__KEY_PEPPER"]
        assert settings.auth.data_key.get_secret_value() == env["TALENTMATCH_AUTH__DATA_KEY"]
        assert settings.database_url.startswith("postgresql+psycopg://")
        assert f":{env['POSTGRES_PASSWORD']}@postgres:" in settings.database_url
        assert settings.search.backend == "elasticsearch"
        group = settings.search.elasticsearch
        assert group.url == "http://elasticsearch:9200"
        assert group.password is not None
        assert group.password.get_secret_value() == env["ELASTIC_PASSWORD"]
        assert settings.redis_url == "redis://redis:6379/0"
    # The same passwords on the servers' side.
    postgres = environment_of(services["postgres"])
    assert postgres["POSTGRES_PASSWORD"] == env["POSTGRES_PASSWORD"]
    assert (
        f"talentmatch:{env['POSTGRES_PASSWORD']}@"
        in environment_of(services["api"])["TALENTMATCH_DB__URL"]
    )
    assert postgres["POSTGRES_USER"] == "talentmatch"
    elasticsearch = environment_of(services["elasticsearch"])
    assert elasticsearch["ELASTIC_PASSWORD"] == env["ELASTIC_PASSWORD"]
    assert elasticsearch["xpack.security.enabled"] == "true"


def test_each_required_secret_stops_compose_when_missing() -> None:
    services = compose()["services"]
    for secret in REQUIRED_SECRETS:
        env = {name: value for name, value in strong_secrets().items() if name != secret}
        with pytest.raises(MissingVariable, match=secret):
            interpolated(services, env)
        # An empty value (as .env.example leaves it) is refused too.
        with pytest.raises(MissingVariable, match=secret):
            interpolated(services, {**env, secret: ""})


def test_secrets_are_never_written_in_the_file() -> None:
    text = COMPOSE_FILE.read_text(encoding="utf-8")
    for secret in REQUIRED_SECRETS:
        uses = re.findall(r"\$\{" + secret + r"([^}]*)\}", text)
        assert uses, f"{secret} is not used"
        assert all(use.startswith(":?") for use in uses), f"{secret}: use ${{{secret}:?...}}"
    for name, service in compose()["services"].items():
        for variable, value in environment_of(service).items():
            if _SECRET_NAME.search(variable):
                # The whole value is a required variable, nothing written out.
                assert re.fullmatch(r"\$\{[A-Z_]+:\?[^}]*\}", value), (name, variable)
        url = environment_of(service).get("TALENTMATCH_DB__URL")
        if url is not None:
            password = re.match(r"[^:]+://[^:@/]+:([^@]*)@", url)
            assert password and password[1].startswith("${POSTGRES_PASSWORD:?"), name


def test_env_example_lists_every_secret_empty_and_says_how_to_make_one() -> None:
    lines = (ROOT / ".env.example").read_text(encoding="utf-8").splitlines()
    values = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    for secret in REQUIRED_SECRETS:
        # Empty: compose refuses to start until it is filled in.
        assert values.get(secret) == "", secret
    text = "\n".join(lines)
    assert 'python -c "import secrets; print(secrets.token_hex(32))"' in text


# --- Elasticsearch ----------------------------------------------------------------------


def _major_minor(version: str) -> tuple[int, int]:
    numbers = re.match(r"(\d+)\.(\d+)", version)
    assert numbers, version
    return int(numbers[1]), int(numbers[2])


def test_elasticsearch_image_is_9_with_smartcn_and_fits_the_client() -> None:
    instructions = dockerfile_instructions(ES_DOCKERFILE.read_text(encoding="utf-8"))
    (image,) = [args for keyword, args in instructions if keyword == "FROM"]
    repository, tag = image.split()[0].rsplit(":", 1)
    assert repository == "docker.elastic.co/elasticsearch/elasticsearch"
    server = _major_minor(tag)
    assert server[0] == 9
    installs = [args for keyword, args in instructions if keyword == "RUN"]
    assert any(
        "bin/elasticsearch-plugin install" in run and "analysis-smartcn" in run for run in installs
    )
    # Elastic's clients are forward compatible only: a client talks to servers of its own or
    # a later minor of the same major.
    client = _major_minor(importlib.metadata.version("elasticsearch"))
    assert server[0] == client[0] and server >= client
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    for requirement in project["project"]["dependencies"]:
        pinned = re.fullmatch(
            r"elasticsearch(?:\[[^]]*\])?\s*(?:>=|==|~=)\s*([\d.]+).*", requirement
        )
        if pinned:
            assert _major_minor(pinned[1])[0] == server[0]
            assert server >= _major_minor(pinned[1])
    service = compose()["services"]["elasticsearch"]
    build = service["build"]
    context = build if isinstance(build, str) else build["context"]
    assert (ROOT / context / "Dockerfile").resolve() == ES_DOCKERFILE.resolve()
    assert environment_of(service)["discovery.type"] == "single-node"


# --- the image --------------------------------------------------------------------------


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(KEYWORD, arguments) per instruction, continuation lines joined, comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        instructions.append((keyword.upper(), args.strip()))
        pending = ""
    return instructions


def build_stage() -> list[tuple[str, str]]:
    """The Dockerfile stage that builds the project (the one that copies pyproject.toml)."""
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            stages.append([])
        if stages:
            stages[-1].append((keyword, args))
    (stage,) = [s for s in stages if any(k == "COPY" and "pyproject.toml" in a for k, a in s)]
    return stage


def runtime_stage() -> list[tuple[str, str]]:
    stages: list[list[tuple[str, str]]] = []
    for keyword, args in dockerfile_instructions(DOCKERFILE.read_text(encoding="utf-8")):
        if keyword == "FROM":
            stages.append([])
        stages[-1].append((keyword, args))
    return stages[-1]


def dockerignored() -> list[tuple[bool, str]]:
    """.dockerignore's patterns in order, each with whether it excludes (or re-includes)."""
    patterns = []
    for raw in (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        excludes = not line.startswith("!")
        patterns.append((excludes, line.lstrip("!").strip("/")))
    return patterns


def is_dockerignored(relative: str, patterns: list[tuple[bool, str]]) -> bool:
    """Whether the build context leaves ``relative`` out (the last matching pattern decides;
    a pattern matching a parent directory matches everything under it)."""
    parts = relative.split("/")
    candidates = ["/".join(parts[: end + 1]) for end in range(len(parts))]
    ignored = False
    for excludes, pattern in patterns:
        alternatives = [pattern]
        if pattern.startswith("**/"):
            alternatives.append(pattern[3:])
        if any(fnmatch.fnmatchcase(c, p) for c in candidates for p in alternatives):
            ignored = excludes
    return ignored


def copy_build_context(destination: Path) -> Path:
    """Lay out what the build stage's COPY lines put in its image under ``destination``, from
    the build context (.dockerignore applied); the stage's WORKDIR there is returned."""
    patterns = dockerignored()
    workdir = Path("/")
    for keyword, args in build_stage():
        if keyword == "WORKDIR":
            workdir = workdir / args
        if keyword not in ("COPY", "ADD"):
            continue
        words = args.split()
        assert not any(word.startswith("--from") for word in words), "COPY from another stage"
        words = [word for word in words if not word.startswith("--")]
        *sources, target = words
        target_path = destination / (workdir / target).relative_to("/")
        into_directory = target.endswith("/") or len(sources) > 1
        for source in sources:
            origin = ROOT / source
            assert origin.exists(), f"COPY {source}: not in the repository"
            if origin.is_dir():
                for path in sorted(origin.rglob("*")):
                    relative = path.relative_to(ROOT).as_posix()
                    if path.is_file() and not is_dockerignored(relative, patterns):
                        copied = target_path / path.relative_to(origin)
                        copied.parent.mkdir(parents=True, exist_ok=True)
                        shutil.copy2(path, copied)
            elif not is_dockerignored(source, patterns):
                copied = target_path / origin.name if into_directory else target_path
                copied.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(origin, copied)
    return destination / workdir.relative_to("/")


def expected_wheel_files() -> set[str]:
    """What the wheel must hold, read off the repository and pyproject.toml: every module of
    every package packages.find includes (namespace packages such as store/migrations too)
    and every package-data file."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    setuptools_config = project["tool"]["setuptools"]
    expected: set[str] = set()
    for pattern in setuptools_config["packages"]["find"]["include"]:
        for top in ROOT.iterdir():
            if top.is_dir() and fnmatch.fnmatchcase(top.name, pattern):
                assert (top / "__init__.py").is_file(), top
                expected |= {
                    path.relative_to(ROOT).as_posix()
                    for path in top.rglob("*.py")
                    if "__pycache__" not in path.parts
                }
    for package, globs in setuptools_config["package-data"].items():
        for glob in globs:
            expected |= {
                path.relative_to(ROOT).as_posix()
                for path in (ROOT / package).glob(glob)
                if path.is_file()
            }
    return expected


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The project's wheel, built offline from exactly what the Dockerfile copies."""
    root = tmp_path_factory.mktemp("image")
    source = copy_build_context(root / "fs")
    out = root / "wheels"
    subprocess.run(
        [
            sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
            "--no-index", "--quiet", "--wheel-dir", str(out), str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )  # fmt: skip
    (built,) = out.glob("talentmatch-*.whl")
    return built


def test_the_wheel_built_from_the_dockerfile_copies_holds_every_module_and_data_file(
    wheel: Path,
) -> None:
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        entry_points = next(n for n in names if n.endswith(".dist-info/entry_points.txt"))
        scripts = archive.read(entry_points).decode()
    expected = expected_wheel_files()
    # The groups the service cannot start without, named so a regression reads plainly.
    for needed in (
        "widget/talentmatch.js",
        "widget/demo.html",
        "taxonomy/data/cn_regions.csv",
        "search_index/data/search_reranker.json",
        "matching/data/default_ranker.json",
        "store/migrations/env.py",
        "cli/main.py",
    ):
        assert needed in expected, f"{needed}: the expectation misses it"
    missing = sorted(expected - names)
    assert missing == [], f"the image's package lacks: {missing}"
    assert "talentmatch = cli.main:main" in scripts


def test_the_installed_wheel_finds_its_data_and_migrates_a_database(
    wheel: Path, tmp_path: Path
) -> None:
    site = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(site)
    packages = sorted({path.split("/")[0] for path in expected_wheel_files()})
    probe = """
import importlib, json, sys
from importlib import resources
import widget, store.db
from matching.ranker import default_model
from search_index.rerank import default_search_reranker
from taxonomy.occupations import csco_occupations
from taxonomy.regions import region_directory
from taxonomy.skills import skill_vocabulary
print(json.dumps({
    "packages": {name: importlib.import_module(name).__file__ for name in sys.argv[1:]},
    "migrations": str(store.db.MIGRATIONS),
    "widget_js": len(resources.files("widget").joinpath("talentmatch.js").read_bytes()),
    "demo_html": len(resources.files("widget").joinpath("demo.html").read_bytes()),
    "regions": len(region_directory().by_code),
    "skills": len(skill_vocabulary().all_names()),
    "occupations": len(csco_occupations()),
    "ranker": type(default_model()).__name__,
    "reranker": type(default_search_reranker()).__name__,
}))
"""
    env = {key: value for key, value in os.environ.items() if not key.startswith("TALENTMATCH_")}
    # The unpacked wheel comes before the worktree's editable install; the current directory
    # is not the worktree, so nothing is imported from it.
    env["PYTHONPATH"] = str(site)
    env["TALENTMATCH_DATA_DIR"] = str(tmp_path / "data")
    run = subprocess.run(
        [sys.executable, "-c", probe, *packages], cwd=tmp_path, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    found = json.loads(run.stdout)
    # Every package from the wheel, none from the worktree's editable install.
    assert sorted(found["packages"]) == packages
    for name, module_file in found["packages"].items():
        assert Path(module_file).is_relative_to(site), name
    assert Path(found["migrations"]).is_relative_to(site)
    assert found["widget_js"] > 0 and found["demo_html"] > 0
    assert found["regions"] > 0 and found["skills"] > 0 and found["occupations"] > 0
    # A key created with the installed command runs every migration from the wheel.
    keys = subprocess.run(
        [sys.executable, "-m", "cli.main", "keys", "create", "--tenant", "t", "--role", "admin"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert keys.returncode == 0, keys.stderr
    assert keys.stdout.strip().startswith("tm_")
    assert (tmp_path / "data" / "talentmatch.db").is_file()


def test_the_build_compiles_hnswlib_for_any_cpu() -> None:
    # A wheel built with -march=native dies with SIGILL on an older CPU than the builder's.
    environment = " ".join(args for keyword, args in build_stage() if keyword == "ENV")
    assert re.search(r"\bHNSWLIB_NO_NATIVE=1\b", environment)


def test_the_image_runs_as_a_user_with_a_writable_metrics_directory() -> None:
    runtime = runtime_stage()
    users = [args for keyword, args in runtime if keyword == "USER"]
    assert users and users[-1].split(":")[0] not in ("root", "0")
    environment = " ".join(args for keyword, args in runtime if keyword == "ENV")
    directory = re.search(r"PROMETHEUS_MULTIPROC_DIR=(\S+)", environment)
    assert directory, "PROMETHEUS_MULTIPROC_DIR is not set"
    runs = " ".join(args for keyword, args in runtime if keyword == "RUN")
    assert re.search(r"mkdir -p [^&]*" + re.escape(directory[1]), runs)
    assert re.search(r"chown \S+ [^&]*" + re.escape(directory[1]), runs)
    assert any(keyword == "HEALTHCHECK" for keyword, _ in runtime)
    # The compose health checks run the script the image ships.
    (script_copy,) = [args for keyword, args in runtime if keyword == "COPY"]
    script = script_copy.split()[-1]
    services = compose()["services"]
    for name in ("api", "worker"):
        assert script in services[name]["healthcheck"]["test"], name
    # Each container's samples start empty: compose mounts a tmpfs on the directory.
    for name in ("api", "worker"):
        assert any(
            mount.split(":")[0] == directory[1] for mount in services[name].get("tmpfs", [])
        ), name


def test_dockerignore_keeps_local_state_out_and_the_sources_in() -> None:
    patterns = dockerignored()
    for private in (".venv", "data", ".git", "tests", ".env", "api/__pycache__/x.pyc"):
        assert is_dockerignored(private, patterns), private
    for keyword, args in build_stage():
        if keyword == "COPY":
            for source in [w for w in args.split() if not w.startswith("--")][:-1]:
                assert not is_dockerignored(source, patterns), source
    assert not is_dockerignored("deploy/healthcheck.py", patterns)


# --- the health checks ------------------------------------------------------------------


def load_healthcheck() -> ModuleType:
    spec = importlib.util.spec_from_file_location("healthcheck", ROOT / "deploy/healthcheck.py")
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture
def readyz() -> Iterator[tuple[int, list[int]]]:
    """A local HTTP server whose /readyz answers the status at the end of the list."""
    statuses = [200]

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.send_response(statuses[-1] if self.path == "/readyz" else 404)
            self.end_headers()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], statuses
    finally:
        server.shutdown()
        server.server_close()


def test_api_health_check_follows_readyz(readyz: tuple[int, list[int]]) -> None:
    healthcheck = load_healthcheck()
    port, statuses = readyz
    assert healthcheck.check_api(port) is None
    statuses.append(503)
    assert "503" in healthcheck.check_api(port)
    # Nothing listening: the API is down.
    assert "/readyz" in healthcheck.check_api(free_port())


def test_worker_health_check_needs_a_running_worker_and_a_database(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    healthcheck = load_healthcheck()
    postgres_url = os.environ.get("TALENTMATCH_TEST_POSTGRES_URL")
    for variable in [key for key in os.environ if key.startswith("TALENTMATCH_")]:
        monkeypatch.delenv(variable)
    monkeypatch.setenv("TALENTMATCH_DATA_DIR", str(tmp_path))
    worker = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)", "worker"])
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    beat = tmp_path / "heartbeat"
    check = partial(healthcheck.check_worker, heartbeat=beat)
    try:
        assert "no heartbeat" in check(worker.pid)
        beat.touch()
        assert check(worker.pid) is None
        stale = time.time() - 61
        os.utime(beat, (stale, stale))
        assert "no heartbeat for" in check(worker.pid)
        beat.touch()
        assert "not the worker" in check(other.pid)
        worker.send_signal(signal.SIGSTOP)
        try:
            deadline = time.monotonic() + 10
            while check(worker.pid) is None and time.monotonic() < deadline:
                time.sleep(0.05)
            assert "state T" in check(worker.pid)
        finally:
            worker.send_signal(signal.SIGCONT)
        if postgres_url:
            monkeypatch.setenv("TALENTMATCH_DB__URL", postgres_url)
            assert check(worker.pid) is None
        # An Elasticsearch that does not answer.
        monkeypatch.setenv("TALENTMATCH_SEARCH__BACKEND", "elasticsearch")
        monkeypatch.setenv(
            "TALENTMATCH_SEARCH__ELASTICSEARCH__URL", f"http://127.0.0.1:{free_port()}"
        )
        monkeypatch.setenv("TALENTMATCH_SEARCH__ELASTICSEARCH__USERNAME", "elastic")
        monkeypatch.setenv("TALENTMATCH_SEARCH__ELASTICSEARCH__PASSWORD", "not-a-secret")
        assert "elasticsearch" in check(worker.pid)
        # A database that does not answer.
        monkeypatch.setenv(
            "TALENTMATCH_DB__URL", "postgresql+psycopg://nobody:none@127.0.0.1:9/none"
        )
        assert "database" in check(worker.pid)
    finally:
        for process in (worker, other):
            process.kill()
            process.wait()
    assert "gone" in check(worker.pid)
