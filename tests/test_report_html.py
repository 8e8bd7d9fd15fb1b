"""`promptlib report --html FILE`: one self-contained page, opened in headless Chromium.

Chromium comes from Debian's `chromium` package, which .ci/run installs. Elsewhere, when
/usr/bin/chromium is missing, the test installs it if it runs as root, and otherwise skips with
the reason (so `make test` works on a laptop without root); in CI (`CI` set) a missing browser
fails the test instead, so the check can never go quiet there. The screenshot is decoded with a
small PNG reader (zlib only) and checked for being non-blank and for the charts' bar colours.
"""

from __future__ import annotations

import html
import os
import re
import struct
import subprocess
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

import tests.adoption_repo as repo
from promptlib.cli import report_html
from tests.adoption_repo import SINCE, UNTIL

# Git-heavy or whole-process: left out of `make test-fast`.
pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
SETUP = Path(__file__).resolve().parents[1] / ".ci" / "setup-chromium.sh"


@pytest.fixture(scope="session")
def chromium() -> Path:
    if not CHROMIUM.exists() and os.geteuid() == 0:
        subprocess.run(["bash", str(SETUP)], check=False, timeout=900)
    if CHROMIUM.exists():
        return CHROMIUM
    reason = f"{CHROMIUM} is missing: run {SETUP} as root to install it"
    if os.environ.get("CI"):
        pytest.fail(reason)
    pytest.skip(reason)


def chromium_args(profile: Path) -> list[str]:
    return [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
            "--no-first-run", "--disable-background-networking", "--disable-component-update",
            "--disable-sync", f"--user-data-dir={profile}"]


# --- a PNG reader: zlib and struct only -----------------------------------------------------------


def decode_png(data: bytes) -> tuple[int, int, int, list[bytes]]:
    """(width, height, bytes per pixel, rows) of an 8-bit, non-interlaced RGB or RGBA PNG."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks = 8, []
    width = height = bpp = 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        pos += 12 + length
        if kind == b"IHDR":
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", body)
            assert depth == 8, depth
            assert interlace == 0, interlace
            assert colour in (2, 6), colour
            bpp = 3 if colour == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
    raw = zlib.decompress(b"".join(chunks))
    stride = width * bpp
    prev = bytearray(stride)
    rows = []
    for y in range(height):
        start = y * (stride + 1)
        kind_ = raw[start]
        line = bytearray(raw[start + 1:start + 1 + stride])
        if kind_ == 1:  # Sub
            for i in range(bpp, stride):
                line[i] = (line[i] + line[i - bpp]) & 255
        elif kind_ == 2:  # Up
            line = bytearray((a + b) & 255 for a, b in zip(line, prev, strict=True))
        elif kind_ == 3:  # Average
            for i in range(stride):
                left = line[i - bpp] if i >= bpp else 0
                line[i] = (line[i] + ((left + prev[i]) >> 1)) & 255
        elif kind_ == 4:  # Paeth
            for i in range(stride):
                a = line[i - bpp] if i >= bpp else 0
                b, c = prev[i], (prev[i - bpp] if i >= bpp else 0)
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, bpp, rows


def distinct_colours(rows: list[bytes], bpp: int, step: int = 3) -> int:
    seen = set()
    for row in rows[::step]:
        for i in range(0, len(row), bpp * step):
            seen.add(row[i:i + 3])
    return len(seen)


def pixels_of(rows: list[bytes], bpp: int, hex_colour: str) -> int:
    rgb = bytes.fromhex(hex_colour.lstrip("#"))
    pattern = rgb + b"\xff" if bpp == 4 else rgb
    return sum(row.count(pattern) for row in rows)


def test_png_reader_on_a_known_image() -> None:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return (struct.pack(">I", len(body)) + kind + body
                + struct.pack(">I", zlib.crc32(kind + body)))

    # 2x3 RGB: rows filtered None, Sub, Up, and an Average and Paeth row after them.
    rows = [bytes([10, 20, 30, 40, 50, 60]), bytes([1, 2, 3, 4, 5, 6]),
            bytes([200, 100, 50, 0, 255, 7]), bytes([9, 8, 7, 6, 5, 4]),
            bytes([0, 0, 0, 255, 255, 255])]
    prev = bytes(6)
    encoded = b""
    for kind, row in zip((0, 1, 2, 3, 4), rows, strict=True):
        out = bytearray(row)
        for i in range(6):
            a = row[i - 3] if i >= 3 else 0
            b, c = prev[i], (prev[i - 3] if i >= 3 else 0)
            p = a + b - c
            pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
            paeth = a if pa <= pb and pa <= pc else b if pb <= pc else c
            out[i] = (row[i] - (0, a, b, (a + b) >> 1, paeth)[kind]) & 255
        encoded += bytes([kind]) + bytes(out)
        prev = row
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 2, 5, 8, 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(encoded)) + chunk(b"IEND", b""))
    assert decode_png(png) == (2, 5, 3, rows)


# --- the page -------------------------------------------------------------------------------------


@pytest.fixture
def page_file(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
              run: Callable[..., subprocess.CompletedProcess[str]]) -> Path:
    repo.build(monkeypatch)
    out = tmp_path / "out" / "report.html"
    out.parent.mkdir()
    proc = run("report", "--since", SINCE, "--until", UNTIL, "--html", str(out))
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout == ""
    assert f"wrote {out}" in proc.stderr
    return out


def test_html_is_self_contained_and_escaped(page_file: Path) -> None:
    text = page_file.read_text(encoding="utf-8")
    assert text.startswith("<!DOCTYPE html>")
    assert "<script" not in text.lower()
    assert not re.search(r"<link|@import|url\(|\bsrc=|\bhref=", text, re.IGNORECASE)
    # The only URL is the SVG namespace, which is a name, never fetched.
    assert set(re.findall(r"https?://[^\s\"'<>]+", text)) == {"http://www.w3.org/2000/svg"}
    # Per period: adoption 4 (with the rate), sharing 4 (with transmissions), ROI 1; use cases 2;
    # who learned from whom; time saved per recipe; most rendered.
    assert text.count("<svg") == 14
    assert "Customer reply &lt;b&gt;in one go&lt;/b&gt;" in text
    assert "<b>in one go" not in text
    assert oct(page_file.stat().st_mode & 0o777) == oct(0o666 & ~_umask())


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def test_html_opens_in_headless_chromium_with_visible_charts(chromium: Path, page_file: Path,
                                                             tmp_path: Path) -> None:
    shot = tmp_path / "shot.png"
    proc = subprocess.run([*chromium_args(tmp_path / "profile"), f"--screenshot={shot}",
                           "--window-size=1200,3000", page_file.as_uri()],
                          capture_output=True, text=True, timeout=180, check=False)
    assert shot.exists(), proc.stderr[-2000:]
    width, height, bpp, rows = decode_png(shot.read_bytes())
    assert (width, height) == (1200, 3000)
    assert distinct_colours(rows, bpp) > 50  # text, charts and panels: far from blank
    for colour in ("2f6fdf", "12877f", "7a4cc2", "2e8b3e", "c77c02"):  # every chart colour
        assert pixels_of(rows, bpp, colour) > 300, colour
    # What the browser parsed holds the figures.
    dom = subprocess.run([*chromium_args(tmp_path / "profile2"), "--dump-dom",
                          page_file.as_uri()], capture_output=True, text=True, timeout=180,
                         check=False).stdout
    visible = html.unescape(re.sub(r"<[^>]+>", " ", dom))
    words = " ".join(visible.split())
    for figure in ("5h saved (300 minutes)", "5 wins recorded", "3 people rendering",
                   "19 renders", "3 people contributing recipes", "2 shared across collections",
                   "2 improved by someone other than their author",
                   "5 arrived from others by pull", "“Cleared the disk without paging anyone”",
                   "sre/disk-full", "2h · 1 win", "1h 55m · 2 wins", "7 renders",
                   "support/log-triage ← sre/log-triage 2024-04-15",
                   "Customer reply <b>in one go</b>"):
        assert figure in words, figure


def test_page_for_an_empty_report_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from promptlib.report import document as report

    doc = report.build(until="2024-05-26").doc
    text = report_html.page(doc)
    assert text.count("none in this window") == 9  # every per-period chart
    assert "no transmissions in this window" in text
    assert "Best notes" not in text



# --- where the page is written --------------------------------------------------------------------


@pytest.mark.parametrize("as_json", [False, True])
def test_html_into_a_missing_folder_is_refused_and_creates_nothing(
        cli: Callable[..., Any], tmp_path: Path, as_json: bool) -> None:
    missing = tmp_path / "nonexistent" / "dir"
    result = cli("report", *(["--json"] if as_json else []), "--html", str(missing / "x.html"))
    assert result.exit_code == 4, result.output
    assert f"no folder {missing}" in result.stderr
    assert "wrote" not in result.stderr
    assert result.stdout == ""
    assert not (tmp_path / "nonexistent").exists()


def test_html_into_a_file_as_folder_is_refused(cli: Callable[..., Any], tmp_path: Path) -> None:
    (tmp_path / "plain").write_text("x")
    result = cli("report", "--html", str(tmp_path / "plain" / "x.html"))
    assert result.exit_code == 4
    assert f"{tmp_path / 'plain'} is not a folder" in result.stderr


def test_write_never_makes_folders(tmp_path: Path) -> None:
    from promptlib.errors import InvalidError
    from promptlib.report import document as report

    doc = report.build(until="2024-05-26").doc
    out = tmp_path / "out"
    out.mkdir()
    with pytest.raises(InvalidError):
        report_html.write(doc, out / "a" / "b.html")
    assert list(out.iterdir()) == []


def test_html_replaces_a_page_atomically_and_leaves_no_temp_file(cli: Callable[..., Any],
                                                                 tmp_path: Path) -> None:
    tmp_path = tmp_path / "out"
    tmp_path.mkdir()
    out = tmp_path / "report.html"
    out.write_text("old page")
    before = out.stat().st_ino
    link = tmp_path / "hardlink.html"
    os.link(out, link)  # a rename leaves the old inode (and so this link) untouched
    result = cli("report", "--until", "2024-05-26", "--html", str(out))
    assert result.exit_code == 0, result.output
    assert out.read_text().startswith("<!DOCTYPE html>")
    assert out.stat().st_ino != before
    assert link.read_text() == "old page"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hardlink.html", "report.html"]
    assert oct(out.stat().st_mode & 0o777) == oct(0o666 & ~_umask())
    # A failed write (the target is a folder) leaves no temp file behind either.
    (tmp_path / "taken.html").mkdir()
    assert cli("report", "--until", "2024-05-26", "--html",
               str(tmp_path / "taken.html")).exit_code == 1
    assert sorted(p.name for p in tmp_path.iterdir()) == ["hardlink.html", "report.html",
                                                          "taken.html"]
