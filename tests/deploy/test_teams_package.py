"""`ribot teams-package` builds an upload zip that Microsoft's app-manifest schema accepts, refuses one Teams
would not, and works from a wheel installed outside the checkout."""

from __future__ import annotations

import json
import shutil
import struct
import sys
import sysconfig
import zipfile
import zlib
from pathlib import Path
from typing import Any

import pytest

from connectors.cli import main
from connectors.cli_teams import APP_SOURCE, png_size
from tests.deploy.tools import REPO, TEAMS_SCHEMA, run, system_tool

BOT = "0b4f6f3c-7f0e-4c53-9d7e-2f0d2d6c1a11"
URLS = ["--privacy-url", "https://ki.se/en/privacy", "--terms-url", "https://ki.se/en/terms"]


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
    assert main(["teams-package", "--bot-id", BOT, "--version", "1.2.3", *URLS, "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        manifest: dict[str, Any] = json.loads(archive.read("manifest.json"))
        color = decode_png(archive.read("color.png"))
        outline = decode_png(archive.read("outline.png"))
    assert manifest["id"] == BOT and manifest["bots"][0]["botId"] == BOT
    assert manifest["version"] == "1.2.3" and manifest["manifestVersion"] == "1.19"
    assert set(manifest["bots"][0]["scopes"]) == {"personal", "team", "groupChat"}
    assert "${{" not in json.dumps(manifest)
    assert manifest["developer"]["privacyUrl"] == "https://ki.se/en/privacy"
    assert manifest["developer"]["termsOfUseUrl"] == "https://ki.se/en/terms"
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
        assert main(["teams-package", *URLS, "-o", str(tmp_path / "p.zip")]) == 0
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
    assert main(["teams-package", *URLS, *args, "-o", str(out)]) == 1
    assert message in capsys.readouterr().err
    assert not out.exists()


def test_no_bot_id_is_explained(tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str]) -> None:
    from bot.settings import get_settings

    get_settings.cache_clear()
    assert main(["teams-package", *URLS, "-o", str(tmp_path / "p.zip")]) == 1
    assert "--bot-id" in capsys.readouterr().err


def test_wrong_icon_size_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source = tmp_path / "teams"
    shutil.copytree(APP_SOURCE, source)
    (source / "outline.png").write_bytes((source / "color.png").read_bytes())
    assert png_size((source / "outline.png").read_bytes()) == (192, 192)
    args = ["teams-package", "--bot-id", BOT, *URLS, "--source", str(source), "-o", str(tmp_path / "p.zip")]
    assert main(args) == 1
    assert "32x32" in capsys.readouterr().err


@pytest.mark.parametrize("missing", ["--privacy-url", "--terms-url"])
def test_privacy_and_terms_urls_are_required(
    tmp_path: Path, clean_env: None, capsys: pytest.CaptureFixture[str], missing: str
) -> None:
    args = [arg for pair in zip(URLS[::2], URLS[1::2], strict=True) if pair[0] != missing for arg in pair]
    with pytest.raises(SystemExit) as exited:
        main(["teams-package", "--bot-id", BOT, *args, "-o", str(tmp_path / "p.zip")])
    assert exited.value.code == 2
    assert missing in capsys.readouterr().err
    assert not (tmp_path / "p.zip").exists()


def validate_with_microsoft_schema(manifest: dict[str, Any], tmp_path: Path) -> tuple[int, dict[str, Any]]:
    """@microsoft/app-manifest's schema validation and type checks, with the schema it bundles."""
    if not (TEAMS_SCHEMA / "node_modules" / "@microsoft" / "app-manifest").is_dir():
        pytest.fail(f"@microsoft/app-manifest is not installed in {TEAMS_SCHEMA}: run `make setup-test`")
    path = tmp_path / "manifest-to-check.json"
    path.write_text(json.dumps(manifest), encoding="utf-8")
    done = run([system_tool("node"), str(TEAMS_SCHEMA / "validate.mjs"), str(path)])
    report: dict[str, Any] = json.loads(done.stdout)
    return done.returncode, report


def test_the_built_zip_passes_microsofts_app_manifest_schema(tmp_path: Path, clean_env: None) -> None:
    out = tmp_path / "ribot-teams.zip"
    assert main(["teams-package", "--bot-id", BOT, *URLS, "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    code, report = validate_with_microsoft_schema(manifest, tmp_path)
    assert (code, report["errors"]) == (0, [])
    assert report["schema"].endswith("/teams/v1.19/MicrosoftTeams.schema.json")


def test_the_schema_check_refuses_what_teams_would(tmp_path: Path, clean_env: None) -> None:
    out = tmp_path / "ribot-teams.zip"
    assert main(["teams-package", "--bot-id", BOT, *URLS, "-o", str(out)]) == 0
    with zipfile.ZipFile(out) as archive:
        manifest = json.loads(archive.read("manifest.json"))
    manifest["accentColor"] = "plum"
    manifest["bots"][0]["scopes"] = ["everyone"]
    code, report = validate_with_microsoft_schema(manifest, tmp_path)
    assert code == 1
    assert any(error.startswith("/accentColor") for error in report["errors"])
    assert any(error.startswith("/bots/0/scopes/0") for error in report["errors"])


@pytest.mark.slow
def test_teams_package_works_from_a_wheel_installed_outside_the_checkout(tmp_path: Path) -> None:
    """The wheel carries the manifest and icons: build it from a copy of the sources (as the image's build
    context), install it into a venv of its own, and run that venv's `ribot` from an unrelated folder."""
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md", "constraints.txt"):
        shutil.copy(REPO / name, source / name)
    for package in ("bot", "knowledge", "connectors"):
        shutil.copytree(REPO / package, source / package, ignore=shutil.ignore_patterns("__pycache__"))
    pip = [sys.executable, "-m", "pip"]
    built = run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist"), str(source)]
    )
    assert built.returncode == 0, built.stderr
    (wheel,) = (tmp_path / "dist").glob("ribot-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        assert {"connectors/teams_app/manifest.json", "connectors/teams_app/color.png"} <= set(
            archive.namelist()
        )

    venv = tmp_path / "venv"
    assert run([sys.executable, "-m", "venv", "--without-pip", str(venv)]).returncode == 0
    python = str(venv / "bin" / "python")
    site = Path(
        run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout.strip()
    )
    # The test venv's site-packages provides the dependencies, as a plain path: its .pth files (among them the
    # editable install of this checkout) are not processed.
    (site / "dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n", encoding="utf-8")
    installed = run([*pip, "--python", python, "install", "--no-deps", "--no-index", "-q", str(wheel)])
    assert installed.returncode == 0, installed.stderr

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    where = run(
        [str(venv / "bin" / "python"), "-c", "import connectors.cli_teams as m; print(m.APP_SOURCE)"],
        cwd=elsewhere,
    )
    assert where.stdout.strip() == str(site / "connectors" / "teams_app"), where.stdout + where.stderr
    out = elsewhere / "ribot-teams.zip"
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    done = run(
        [str(venv / "bin" / "ribot"), "teams-package", "--bot-id", BOT, *URLS, "-o", str(out)],
        cwd=elsewhere,
        env=env,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    with zipfile.ZipFile(out) as archive:
        assert sorted(archive.namelist()) == ["color.png", "manifest.json", "outline.png"]
        assert archive.read("color.png") == (APP_SOURCE / "color.png").read_bytes()
