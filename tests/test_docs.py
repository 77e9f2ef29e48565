"""The documentation stays true: a short README leading to the pages in docs/, links that
resolve, a configuration table naming exactly the variables the code reads, and API tours
whose reads name real routes (the newcomer smoke runs them against a real server in CI)."""

from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from django.urls import Resolver404, resolve

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
DOCS = ROOT / "docs"
PAGES = [README, *sorted(DOCS.glob("*.md"))]
README_LEADS_TO = ["api.md", "admin.md", "operations.md", "configuration.md", "benchmarks.md", "design.md"]

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)|!\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"^```.*?^```", flags=re.S | re.M)


def text_outside_code(path: Path) -> str:
    return FENCE.sub("", path.read_text())


def anchors(path: Path) -> set[str]:
    """GitHub's anchors of a page's headings: lower case, punctuation dropped, spaces to hyphens."""
    found: set[str] = set()
    for line in text_outside_code(path).splitlines():
        if not line.startswith("#"):
            continue
        slug = re.sub(r"[^\w\- ]", "", line.lstrip("#").strip().lower()).replace(" ", "-")
        candidate, n = slug, 0
        while candidate in found:
            n += 1
            candidate = f"{slug}-{n}"
        found.add(candidate)
    return found


def test_the_readme_is_read_in_five_minutes_and_leads_to_every_page():
    lines = README.read_text().splitlines()
    assert len(lines) <= 300, f"README.md has {len(lines)} lines; move details to docs/"
    targets = {match[0] or match[1] for match in LINK.findall(text_outside_code(README))}
    for page in README_LEADS_TO:
        assert f"docs/{page}" in targets, f"README.md does not link docs/{page}"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_relative_link_and_anchor_resolves(page):
    broken = []
    for match in LINK.findall(text_outside_code(page)):
        target = match[0] or match[1]
        if re.match(r"[a-z]+:", target):  # http(s), mailto: not ours to check
            continue
        path_part, _, anchor = target.partition("#")
        file = (page.parent / path_part).resolve() if path_part else page
        if not file.exists():
            broken.append(f"{target}: no such file")
        elif anchor and file.suffix == ".md" and anchor not in anchors(file):
            broken.append(f"{target}: no such heading")
    assert not broken, f"{page.relative_to(ROOT)}: " + "; ".join(broken)


# --- Configuration ----------------------------------------------------------------------


def table_variables() -> list[str]:
    """The first column's names of docs/configuration.md's table, one per row."""
    names = []
    for line in (DOCS / "configuration.md").read_text().splitlines():
        match = re.match(r"\|\s*`([A-Z][A-Z0-9_]*)`\s*\|", line)
        if match:
            names.append(match.group(1))
    return names


# The settings modules: config/settings.py and the feature modules it imports names from.
SETTINGS_MODULES = ("settings.py", "observability.py", "access.py", "renewals.py", "retention.py")


def settings_variables() -> set[str]:
    """Every variable the settings read: os.environ.get / os.environ[...] / env_bool / env_list."""
    names = set()
    for module in SETTINGS_MODULES:
        names |= _variables_read(ast.parse((ROOT / "config" / module).read_text()))
    return names


def test_the_settings_import_every_feature_module():
    settings = (ROOT / "config" / "settings.py").read_text()
    for module in SETTINGS_MODULES[1:]:
        assert f"from config.{module.removesuffix('.py')} import " in settings


def _variables_read(tree: ast.AST) -> set[str]:
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
            func = ast.unparse(node.func)
            if func in {"os.environ.get", "os.getenv", "env_bool", "env_list", "os.environ.setdefault"}:
                names.add(node.args[0].value)
        elif (
            isinstance(node, ast.Subscript)
            and ast.unparse(node.value) == "os.environ"
            and isinstance(node.slice, ast.Constant)
        ):
            names.add(node.slice.value)
    return names


def read_outside_settings(name: str) -> bool:
    """Whether a script (bin/, .ci/run, Procfile) or Python code outside the settings reads ``name``."""
    shell = [*(ROOT / "bin").iterdir(), ROOT / ".ci" / "run", ROOT / "Procfile"]
    if any(re.search(rf"\$\{{?{name}\b", path.read_text()) for path in shell):
        return True
    python_read = re.compile(rf"""(environ(\.get|\.setdefault)?\(|environ\[|getenv\()["']{name}["']""")
    for folder in ("certhub", "certifications", "events", "notifications", "benchmarks", "config", "tests"):
        if any(python_read.search(path.read_text()) for path in (ROOT / folder).rglob("*.py")):
            return True
    return any(python_read.search(path.read_text()) for path in ROOT.glob("*.py"))


def test_the_configuration_table_names_every_variable_the_settings_read_once():
    names = table_variables()
    assert len(names) == len(set(names)), "a variable has two rows"
    missing = settings_variables() - set(names)
    assert not missing, f"config/settings.py reads {sorted(missing)}, not in docs/configuration.md"


def test_every_variable_of_the_configuration_table_is_read_by_the_code():
    settings = settings_variables()
    unread = [name for name in table_variables() if name not in settings and not read_outside_settings(name)]
    assert not unread, f"docs/configuration.md lists {unread}, which no code reads"


# --- The tours ----------------------------------------------------------------------------


def load_newcomer_smoke():
    spec = importlib.util.spec_from_file_location("newcomer_smoke", ROOT / ".ci" / "newcomer_smoke.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_every_read_of_the_tours_names_a_route_the_smoke_can_run():
    smoke = load_newcomer_smoke()
    assert "README.md" in smoke.TOUR_PAGES
    for page in smoke.TOUR_PAGES:
        reads = smoke.tour_reads((ROOT / page).read_text())
        assert reads, f"{page} has no read for the newcomer smoke to run"
        for url, _ in reads:
            full = smoke.expand(
                url,
                origin="http://127.0.0.1:8000",
                cert_id="cert_00000000",
                run_id="job_01JAN2026_01",
                mentor_id="mntr_00000000",
            )
            try:
                resolve(urlsplit(full).path)
            except Resolver404:
                pytest.fail(f"{page}: GET {full} names no route")


def test_every_read_of_a_private_route_in_the_tours_sends_the_key():
    """The smoke sends the key only where the line does: a private read without it would be a 401 there."""
    smoke = load_newcomer_smoke()
    private = ("/mentors", "/events", "/notifications", "/webhooks", "/history", "/renewal-requests", "export.csv")
    for page in smoke.TOUR_PAGES:
        for url, sends_key in smoke.tour_reads((ROOT / page).read_text()):
            if any(part in url for part in private) or url.startswith(("$MENTORS", "$EVENTS")):
                assert sends_key, f"{page}: GET {url} needs the key"
