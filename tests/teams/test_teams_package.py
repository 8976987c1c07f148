"""`ribot teams-package` builds an upload zip Teams accepts, and refuses one it would not."""

from __future__ import annotations

import json
import shutil
import struct
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from connectors.cli import main
from connectors.cli_teams import DEPLOY_DIR, png_size

BOT = "0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11"


def decode_png(data: bytes) -> tuple[int, int, bytes]:
    """Width, height and the raw scanlines (proves the file decodes, not just that its header looks right)."""
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        assert struct.unpack(">I", data[pos + 8 + length : pos + 12 + length])[0] == zlib.crc32(kind + body)
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
            assert body[8:10] == b"\x08\x06"  # 8-bit RGBA
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    raw = zlib.decompress(idat)
    assert len(raw) == height * (1 + 4 * width)
    return width, height, raw


def test_package_has_a_filled_manifest_and_both_icons(tmp_path: Path, clean_env: None) -> None:
    out = tmp_path / "ribot-teams.zip"
    assert main(["teams-package", "--bot-id", BOT, "--version", "1.2.3", "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
        color = decode_png(archive.read("color.png"))
        outline = decode_png(archive.read("outline.png"))
    assert manifest["id"] == BOT and manifest["bots"][0]["botId"] == BOT
    assert manifest["version"] == "1.2.3" and manifest["manifestVersion"] == "1.19"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert "${{" not in json.dumps(manifest)
    assert color[:2] == (192, 192) and outline[:2] == (32, 32)
    # The outline icon is white on transparent: every pixel white, some transparent, some opaque.
    raw, width = outline[2], outline[0]
    pixels = [raw[row * (1 + 4 * width) + 1 + 4 * x :][:4] for row in range(32) for x in range(32)]
    assert {p[:3] for p in pixels} == {b"\xff\xff\xff"}
    assert min(p[3] for p in pixels) == 0 and max(p[3] for p in pixels) == 255


def test_bot_id_comes_from_the_teams_settings(
    tmp_path: Path, clean_env: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    from bot.settings import get_settings

    monkeypatch.setenv("CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID", BOT)
    get_settings.cache_clear()
    try:
        assert main(["teams-package", "-o", str(tmp_path / "p.zip")]) == 0
    finally:
        get_settings.cache_clear()
    with zipfile.ZipFile(tmp_path / "p.zip") as archive:
        assert json.loads(archive.read("manifest.json"))["bots"][0]["botId"] == BOT


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--bot-id", "not-a-guid"], "GUID"),
        (["--bot-id", BOT, "--app-id", "x"], "GUID"),
        (["--bot-id", BOT, "--version", "1.0"], "1.0.0"),
        (["--bot-id", BOT, "--privacy-url", "http://ki.se/privacy"], "https://"),
        (["--bot-id", BOT, "--bot-id", '", "scopes": ["x"], "a": "'], "GUID"),
    ],
)
def test_bad_values_are_refused(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    out = tmp_path / "p.zip"
    assert main(["teams-package", *args, "-o", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_no_bot_id_is_explained(tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.settings import get_settings

    get_settings.cache_clear()
    assert main(["teams-package", "-o", str(tmp_path / "p.zip")]) == 1
    assert "--bot-id" in capsys.readouterr().err


def test_wrong_icon_size_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "teams"
    shutil.copytree(DEPLOY_DIR, source)
    (source / "outline.png").write_bytes((source / "color.png").read_bytes())
    assert png_size((source / "outline.png").read_bytes()) == (192, 192)
    args = ["teams-package", "--bot-id", BOT, "--source", str(source), "-o", str(tmp_path / "p.zip")]
    assert main(args) == 1
    assert "32x32" in capsys.readouterr().err
