"""Where a review branch becomes a pull request: the forge behind a remote URL, the web link that
opens a pull/merge request for a branch, and the push options that open one directly (GitLab).

Pure string work, nothing runs. The forge is recognised from the remote's host name (github…,
gitlab…, bitbucket…, gitea/forgejo/codeberg…); a self-hosted one on another name is set per
collection in config.yaml (`collections: {sre: {forge: gitlab}}`).
"""

from __future__ import annotations

import re
import urllib.parse

FORGES = ("github", "gitlab", "bitbucket", "gitea")
_HOST_HINTS = (("github", "github"), ("gitlab", "gitlab"), ("bitbucket", "bitbucket"),
               ("gitea", "gitea"), ("forgejo", "gitea"), ("codeberg", "gitea"))
_SCHEME_URL = re.compile(r"(?P<scheme>https?|ssh)://(?:[^@/]*@)?(?P<host>\[[^\]]+\]|[^/:]+)"
                         r"(?P<port>:\d+)?/(?P<path>.+)")
_SCP = re.compile(r"(?:[^@/:]+@)?(?P<host>[^@/:\[\]]+):(?P<path>[^/].*)")


def web_base(url: str) -> tuple[str, str] | None:
    """(host, https address of the repository's page) for an https, ssh or scp-like remote URL;
    None for git://, file:// and local paths, which have no web page."""
    match = _SCHEME_URL.match(url)
    if match is not None:
        host, path = match["host"], match["path"]
        port = match["port"] or "" if match["scheme"] != "ssh" else ""  # ssh's port is not https's
    elif "://" not in url and (match := _SCP.fullmatch(url)) is not None:
        host, path, port = match["host"], match["path"], ""
    else:
        return None
    path = path.strip("/").removesuffix(".git").strip("/")
    if not path or path.startswith("~"):
        return None
    return host.lower(), f"https://{host.lower()}{port}/{path}"


def forge_of(url: str, configured: str | None = None) -> str | None:
    """The forge a remote lives on: the configured one, else one its host name names."""
    if configured in FORGES:
        return configured
    if configured == "none":
        return None
    found = web_base(url)
    if found is None:
        return None
    host = found[0]
    for hint, forge in _HOST_HINTS:
        if hint in host:
            return forge
    return None


def review_link(url: str, branch: str, target: str, forge: str | None) -> str | None:
    """The page that opens a pull (merge) request from `branch` into `target`."""
    found = web_base(url)
    if found is None or forge is None:
        return None
    base = found[1]
    source = urllib.parse.quote(branch, safe="/")
    into = urllib.parse.quote(target, safe="/")
    if forge == "github":
        return f"{base}/compare/{into}...{source}?expand=1"
    if forge == "gitlab":
        query = urllib.parse.urlencode({"merge_request[source_branch]": branch,
                                        "merge_request[target_branch]": target})
        return f"{base}/-/merge_requests/new?{query}"
    if forge == "bitbucket":
        query = urllib.parse.urlencode({"source": branch, "dest": target})
        return f"{base}/pull-requests/new?{query}"
    return f"{base}/compare/{into}...{source}"


def push_options(forge: str | None, target: str, title: str) -> list[str]:
    """`git push -o` values that open the merge request with the push (GitLab only; other
    servers refuse push options they do not advertise)."""
    if forge != "gitlab":
        return []
    clean = re.sub(r"[\x00-\x1f\x7f]+", " ", title).strip()[:200]
    options = ["merge_request.create", f"merge_request.target={target}",
               "merge_request.remove_source_branch"]
    if clean:
        options.append(f"merge_request.title={clean}")
    return options
