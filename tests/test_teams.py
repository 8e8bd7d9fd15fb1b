"""Team collections: the URL allowlist, team add/list/remove, init --from, hostile repositories."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from promptlib import paths as config
from promptlib import settings as promptlib_settings
from promptlib.errors import InvalidError, PromptlibError
from promptlib.gitops import remote as gitops_remote
from promptlib.sync import teams
from tests.conftest import recipe_yaml
from tests.gitdaemon import User, git, make_remote

# Git-heavy or whole-process: left out of `make test-fast`.
pytestmark = pytest.mark.slow

# --- the URL allowlist (pure) ---------------------------------------------------------------------

ACCEPTED = [
    "https://git.example.com/ops/sre-prompts.git",
    "https://alice@git.example.com/ops/sre-prompts.git",
    "https://git.example.com:8443/ops/prompts",
    "ssh://git@git.example.com/ops/sre-prompts.git",
    "ssh://git@git.example.com:2222/ops/sre-prompts.git",
    "ssh://[::1]/srv/prompts.git",
    "git@github.com:ops/sre-prompts.git",
    "github.com:ops/sre-prompts.git",
    "deploy@10.0.0.5:/srv/git/prompts.git",
    "git://127.0.0.1:9418/prompts.git",
    "file:///srv/git/prompts.git",
    "file://localhost/srv/git/prompts.git",
    "/srv/git/prompts.git",
]

REFUSED = {
    "ext::sh -c touch% /tmp/pwned": "remote helpers",
    "fd::17": "remote helpers",
    "fd::17/foo": "remote helpers",
    "EXT::sh": "remote helpers",
    "--upload-pack=touch /tmp/pwned": "option",
    "-oProxyCommand=sh": "option",
    "https://alice:hunter2@git.example.com/ops/p.git": "password",
    "https://:token@git.example.com/ops/p.git": "password",
    "ssh://git:pw@git.example.com/ops/p.git": "password",
    "git:pw@github.com:ops/p.git": "password",
    "http://git.example.com/ops/p.git": "not allowed",
    "ftp://git.example.com/ops/p.git": "not allowed",
    "ssh://-oProxyCommand=sh/x": "host",
    "ssh://git@-oProxyCommand=sh/x": "host",
    "-host:path": "option",
    "https://git.example.com/ops/p.git\n--upload-pack=x": "control",
    "https://git.example.com/a%0ab": "control",
    "https://git.example.com/a b": "whitespace",
    "https://git.example.com": "no repository path",
    "file://evil.example.com/etc": "path on this machine",
    "": "empty",
}


@pytest.mark.parametrize("url", ACCEPTED)
def test_allowlisted_urls_pass_unchanged(url: str):
    assert teams.check_url(url) == url


@pytest.mark.parametrize(("url", "why"), REFUSED.items())
def test_refused_urls_say_why(url: str, why: str):
    with pytest.raises(InvalidError) as caught:
        teams.check_url(url)
    assert caught.value.exit_code == 4
    assert why in caught.value.message
    assert "hunter2" not in (caught.value.hint or "")


def test_relative_local_paths_become_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(tmp_path)
    assert teams.check_url("team.git") == str(tmp_path / "team.git")
    assert teams.check_url("./a:b/team.git") == str(tmp_path / "a:b" / "team.git")


@settings(max_examples=400, deadline=None)
@given(st.text(min_size=0, max_size=80))
def test_any_string_is_accepted_safely_or_refused_cleanly(url: str):
    try:
        checked = teams.check_url(url)
    except InvalidError:
        return
    assert not checked.startswith("-")
    assert not re.match(r"[A-Za-z0-9][A-Za-z0-9+.-]*::", checked)
    assert not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in checked)
    scheme = re.match(r"([A-Za-z][A-Za-z0-9+.-]*)://", checked)
    if scheme:
        assert scheme.group(1).lower() in teams.SCHEMES


_host = st.from_regex(r"[a-z][a-z0-9-]{0,20}(\.[a-z]{2,6}){1,2}", fullmatch=True)
_segment = st.from_regex(r"[A-Za-z0-9_.-]{1,20}", fullmatch=True).filter(lambda s: s not in
                                                                           (".", ".."))
_user = st.from_regex(r"[a-z][a-z0-9_]{0,10}", fullmatch=True)


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["https", "ssh", "git"]), _host, st.lists(_segment, min_size=1,
                                                                 max_size=4))
def test_well_formed_scheme_urls_are_accepted(scheme: str, host: str, path: list[str]):
    url = f"{scheme}://{host}/{'/'.join(path)}"
    assert teams.check_url(url) == url


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(["https", "ssh", "git"]), _user,
       st.text(alphabet=st.characters(min_codepoint=33, max_codepoint=126,
                                      exclude_characters="@/?#"), min_size=1, max_size=12),
       _host)
def test_any_embedded_password_is_refused(scheme: str, user: str, password: str, host: str):
    with pytest.raises(InvalidError):
        teams.check_url(f"{scheme}://{user}:{password}@{host}/team/prompts.git")


@settings(max_examples=200, deadline=None)
@given(st.from_regex(r"[A-Za-z][A-Za-z0-9+.-]{0,8}", fullmatch=True), st.text(max_size=30))
def test_every_remote_helper_is_refused(transport: str, rest: str):
    with pytest.raises(InvalidError):
        teams.check_url(f"{transport}::{rest}")


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_anything_starting_with_a_dash_is_refused(rest: str):
    with pytest.raises(InvalidError):
        teams.check_url("-" + rest)


@pytest.mark.parametrize(("url", "name"), [
    ("git@github.com:ops/SRE_Prompts.git", "sre-prompts"),
    ("https://git.example.com/ops/support/", "support"),
    ("/srv/git/local.git", "team"),
    ("/srv/git/___.git", "team"),
])
def test_team_name_from_url(url: str, name: str):
    assert teams.derive_name(url) == name


# --- git itself refuses what the allowlist would: defense in depth --------------------------------


def test_git_layer_refuses_ext_even_without_the_allowlist(tmp_path: Path):
    marker = tmp_path / "pwned"
    with pytest.raises(PromptlibError) as caught:
        gitops_remote.clone(f"ext::sh -c touch% {marker}", tmp_path / "dest")
    assert not marker.exists()
    assert "not allowed" in caught.value.message or "transport" in caught.value.message


# --- team add / list / remove through the real CLI ------------------------------------------------


@pytest.fixture
def alice(tmp_path: Path) -> User:
    return User("alice", tmp_path)


@pytest.fixture
def remote(tmp_path: Path) -> Path:
    return make_remote(tmp_path, "sre", {
        "incident-response/disk-full.yaml": recipe_yaml("disk-full"),
        "incident-response/oom-kill.yaml": recipe_yaml("oom-kill"),
        "README.md": "Our team's prompts.\n",
    })


def test_team_add_clones_and_team_list_reports(alice: User, remote: Path):
    added = alice.ok("team", "add", "sre", str(remote))
    assert "added team sre" in added.stderr
    assert "2 recipes" in added.stderr
    clone = alice.collection("sre")
    assert (clone / "incident-response" / "disk-full.yaml").is_file()
    # The clone carries the hardening in its own config, for anyone running git there by hand.
    assert git(clone, "config", "--local", "core.hooksPath") == "/dev/null"
    assert git(clone, "config", "--local", "core.symlinks") == "false"

    listed = json.loads(alice.ok("team", "list", "--json").stdout)
    assert len(listed) == 1
    assert {k: listed[0][k] for k in ("name", "url", "recipes", "ahead", "behind")} == {
        "name": "sre", "url": str(remote), "recipes": 2, "ahead": 0, "behind": 0}
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00", listed[0]["last_sync"])

    alice.ok("add", "--to", "sre", "--file", "-", input=recipe_yaml("cpu-spike"))
    listed = json.loads(alice.ok("team", "list", "--json").stdout)
    assert (listed[0]["recipes"], listed[0]["ahead"], listed[0]["behind"]) == (3, 1, 0)
    table = alice.ok("team", "list").stdout
    assert re.search(r"^sre\s+3\s+1\s+0\s+\d{4}-", table, re.MULTILINE)

    alice.ok("list", "--team", "sre")
    assert "sre/disk-full" in alice.ok("list").stdout


@pytest.mark.parametrize("url", [
    "ext::sh -c touch% {marker}",
    "--upload-pack=touch {marker}",
    "fd::17",
    "-u",
    "https://alice:s3cret@example.com/x.git",
])
def test_team_add_refuses_dangerous_urls_and_runs_nothing(alice: User, tmp_path: Path, url: str):
    marker = tmp_path / "pwned"
    result = alice.run("team", "add", "evil", url.format(marker=marker))
    assert result.returncode == 4, result.stderr
    assert "refusing remote URL" in result.stderr
    assert "s3cret" not in result.stderr.replace("https://alice:s3cret@", "")
    assert not marker.exists()
    assert not alice.collection("evil").exists()


def test_team_add_refuses_bad_names_and_existing_ones(alice: User, remote: Path):
    assert alice.run("team", "add", "local", str(remote)).returncode == 4
    assert alice.run("team", "add", "Bad_Name", str(remote)).returncode == 4
    assert alice.run("team", "add", "--upload-pack=x", str(remote)).returncode == 4
    alice.ok("team", "add", "sre", str(remote))
    again = alice.run("team", "add", "sre", str(remote))
    assert again.returncode == 4
    assert "already exists" in again.stderr


def test_team_add_of_a_missing_repository_leaves_nothing_behind(alice: User, tmp_path: Path):
    result = alice.run("team", "add", "ghost", str(tmp_path / "nowhere.git"))
    assert result.returncode == 6, result.stderr
    assert not alice.collection("ghost").exists()
    assert not [p for p in (alice.home / "collections").iterdir() if p.name.startswith(".")]


def test_unknown_team_is_not_found(alice: User):
    for command in (("pull", "nosuch"), ("push", "nosuch"), ("team", "remove", "nosuch")):
        result = alice.run(*command)
        assert result.returncode == 3, (command, result.stderr)
    result = alice.run("pull", "local")  # a collection, but without a remote
    assert result.returncode == 3
    assert "without a remote" in result.stderr


def test_team_remove_refuses_unpushed_work_unless_forced(alice: User, remote: Path):
    alice.ok("init", "--from", str(remote))
    assert promptlib_settings_default(alice) == "sre"
    alice.ok("add", "--file", "-", input=recipe_yaml("cpu-spike"))  # goes to the default: sre

    refused = alice.run("team", "remove", "sre")
    assert refused.returncode == 4
    assert "1 unpushed commit" in refused.stderr
    assert "--force" in refused.stderr
    assert alice.collection("sre").is_dir()

    (alice.collection("sre") / "README.md").write_text("edited by hand\n")
    refused = alice.run("team", "remove", "sre")
    assert "1 uncommitted change" in refused.stderr

    alice.ok("team", "remove", "sre", "--force")
    assert not alice.collection("sre").exists()
    assert promptlib_settings_default(alice) == "local"
    assert json.loads(alice.ok("team", "list", "--json").stdout) == []


def test_team_remove_of_a_clean_team(alice: User, remote: Path):
    alice.ok("team", "add", "sre", str(remote))
    alice.ok("team", "remove", "sre")
    assert not alice.collection("sre").exists()
    assert alice.collection("local").is_dir()


def promptlib_settings_default(user: User) -> str:
    text = (user.home / "config.yaml").read_text() if (user.home / "config.yaml").exists() else ""
    match = re.search(r"^default_collection: (\S+)", text, re.MULTILINE)
    return match.group(1) if match else "local"


def test_init_from_makes_the_team_the_default_for_add(alice: User, remote: Path):
    result = alice.ok("init", "--from", str(remote))
    assert "'sre'" in result.stderr
    assert "default collection" in result.stderr
    assert (alice.collection("local") / ".git").is_dir()  # the home, seeded as usual
    added = alice.ok("add", "--file", "-", input=recipe_yaml("cpu-spike"))
    assert "sre/cpu-spike" in added.stderr
    assert git(alice.collection("sre"), "log", "-1", "--format=%an %s") == (
        "alice Add cpu-spike: Triage a full disk")
    # Running it again is harmless: same remote, same name.
    alice.ok("init", "--from", str(remote))


def test_init_from_after_a_failed_clone_can_be_run_again(alice: User, tmp_path: Path,
                                                         remote: Path):
    missing = tmp_path / "later.git"
    failed = alice.run("init", "--from", str(missing), "--name", "later")
    assert failed.returncode == 6
    assert (alice.collection("local") / ".git").is_dir()
    missing.symlink_to(remote)
    alice.ok("init", "--from", str(missing), "--name", "later")
    assert (alice.collection("later") / "incident-response" / "disk-full.yaml").is_file()


def test_init_from_refuses_a_bad_url_before_creating_anything(alice: User):
    result = alice.run("init", "--from", "ext::sh -c id")
    assert result.returncode == 4
    assert not alice.home.exists()


# --- hostile repository content -------------------------------------------------------------------


def test_hostile_repository_is_cloned_but_nothing_outside_is_ever_read(alice: User, tmp_path: Path):
    hostile = make_remote(tmp_path, "hostile", {
        "ok/fine.yaml": recipe_yaml("fine"),
        "broken.yaml": "name: broken\ntitle: [unclosed\n",
        "Bad_Name.yaml": recipe_yaml("Bad_Name"),
    }, symlinks={"leak.yaml": "/etc/passwd", "dir-link": "/etc"})
    result = alice.ok("team", "add", "hostile", str(hostile))
    warnings = result.stderr
    assert "hostile/leak.yaml: a symlink in the repository; promptlib never follows it" in warnings
    assert "hostile/dir-link: a symlink" in warnings
    assert "hostile/broken.yaml" in warnings
    assert "'Bad_Name' breaks the name rule" in warnings
    assert "1 recipe" in warnings  # only fine.yaml counts

    leak = alice.collection("hostile") / "leak.yaml"
    assert not leak.is_symlink()
    assert leak.read_text() == "/etc/passwd"
    assert not (alice.collection("hostile") / "dir-link").is_symlink()

    listing = alice.run("list", "--json")
    assert listing.returncode == 0
    assert [r["id"] for r in json.loads(listing.stdout) if r["collection"] == "hostile"] == [
        "hostile/fine"]
    everything = listing.stdout + listing.stderr + alice.run("search", "root").stdout
    assert "root:x:0:0" not in everything
    assert "root:" not in everything
    assert alice.run("show", "hostile/leak").returncode in (3, 4)
    assert "root:x" not in alice.run("show", "hostile/leak").stdout


def test_a_tree_with_a_path_leaving_the_collection_is_refused_by_fsck(alice: User,
                                                                       tmp_path: Path):
    evil = make_remote(tmp_path, "evil")
    blob = git(evil, "hash-object", "-w", "--stdin", input="pwned\n")
    inner = _literal_tree(evil, [("100644", "..", blob)])
    outer = _literal_tree(evil, [("40000", "..", inner)])
    commit = git(evil, "-c", "user.name=x", "-c", "user.email=x@x", "commit-tree", outer,
                 "-m", "escape")
    git(evil, "update-ref", "refs/heads/main", commit)

    result = alice.run("team", "add", "evil", str(evil))
    assert result.returncode == 4, result.stderr
    assert "malformed or unsafe git objects" in result.stderr
    assert not alice.collection("evil").exists()
    assert not (alice.home / "collections" / "pwned").exists()
    assert not (tmp_path / "alice" / "pwned").exists()


def _literal_tree(repo: Path, entries: list[tuple[str, str, str]]) -> str:
    import subprocess

    data = b"".join(mode.encode() + b" " + name.encode() + b"\0" + bytes.fromhex(sha)
                    for mode, name, sha in entries)
    return subprocess.run(["git", "hash-object", "-t", "tree", "-w", "--literally", "--stdin"],
                          cwd=repo, input=data, capture_output=True, check=True
                          ).stdout.decode().strip()


def test_config_paths_stay_in_the_home(alice: User, remote: Path):
    alice.ok("team", "add", "sre", str(remote))
    assert (alice.home / "state" / "sync" / "sre.json").is_file()
    assert config.LOCAL_COLLECTION == "local"
    assert promptlib_settings.Settings().default_collection == "local"
