"""`ribot teams-package`: the zip to upload to Teams (manifest.json, color.png, outline.png).

The manifest in connectors/teams_app/ (installed with ribot) has `${{NAME}}` placeholders; this fills them in
from the command line and the Teams settings, checks the result against the rules Teams enforces on upload,
and writes the zip. The privacy statement and terms of use are the organisation's own: they have no default.
"""

from __future__ import annotations

import argparse
import json
import re
import struct
import sys
import zipfile
from pathlib import Path
from typing import Any

APP_SOURCE = Path(__file__).resolve().parent / "teams_app"
DEFAULT_OUTPUT = Path("dist") / "ribot-teams.zip"
DEFAULT_WEBSITE = "https://ki.se/en"
ICON_SIZES = {"color.png": 192, "outline.png": 32}

_GUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_VERSION = re.compile(r"^\d{1,9}\.\d{1,9}\.\d{1,9}$")
_PLACEHOLDER = re.compile(r"\$\{\{([A-Z_]+)\}\}")


class PackageError(ValueError):
    """The manifest or an icon would be refused by Teams."""


def configure(parser: argparse.ArgumentParser, name: str) -> None:
    parser.add_argument("--bot-id", help="the bot's Entra app (client) id; default: the configured client id")
    parser.add_argument("--app-id", help="the Teams app id (a GUID); default: the bot id")
    parser.add_argument("--version", dest="app_version", default="1.0.0", help="app version, e.g. 1.0.0")
    parser.add_argument("--website-url", default=DEFAULT_WEBSITE, help=f"default: {DEFAULT_WEBSITE}")
    parser.add_argument("--privacy-url", required=True, help="the app's privacy statement (https://)")
    parser.add_argument("--terms-url", required=True, help="the app's terms of use (https://)")
    parser.add_argument("--source", type=Path, default=APP_SOURCE, help="folder with manifest.json and icons")
    parser.add_argument("--output", "-o", type=Path, default=DEFAULT_OUTPUT, help="where to write the zip")


def png_size(data: bytes) -> tuple[int, int]:
    if len(data) < 24 or data[:8] != b"\x89PNG\r\n\x1a\n" or data[12:16] != b"IHDR":
        raise PackageError("not a PNG file")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def fill(template: str, values: dict[str, str]) -> dict[str, Any]:
    missing = sorted(set(_PLACEHOLDER.findall(template)) - set(values))
    if missing:
        raise PackageError(f"no value for {', '.join(missing)}")
    text = _PLACEHOLDER.sub(lambda match: json.dumps(values[match.group(1)])[1:-1], template)
    manifest: dict[str, Any] = json.loads(text)
    return manifest


def check_manifest(manifest: dict[str, Any]) -> None:
    if not _GUID.match(str(manifest.get("id", ""))):
        raise PackageError("the Teams app id must be a GUID")
    for bot in manifest.get("bots", []):
        if not _GUID.match(str(bot.get("botId", ""))):
            raise PackageError("the bot id must be the GUID of the bot's Entra app registration")
    if not _VERSION.match(str(manifest.get("version", ""))):
        raise PackageError("the version must look like 1.0.0")
    for key, url in manifest.get("developer", {}).items():
        if key.endswith("Url") and not str(url).startswith("https://"):
            raise PackageError(f"developer.{key} must be an https:// URL")
    if len(manifest["name"]["short"]) > 30 or len(manifest["name"].get("full", "")) > 100:
        raise PackageError("the app name is too long (30 characters short, 100 full)")
    if len(manifest["description"]["short"]) > 80 or len(manifest["description"]["full"]) > 4000:
        raise PackageError("the description is too long (80 characters short, 4000 full)")


def check_icons(source: Path, manifest: dict[str, Any]) -> dict[str, bytes]:
    icons: dict[str, bytes] = {}
    for role, file_name in manifest["icons"].items():
        expected = ICON_SIZES.get(f"{role}.png")
        data = (source / file_name).read_bytes()
        size = png_size(data)
        if expected is not None and size != (expected, expected):
            raise PackageError(f"{file_name} is {size[0]}x{size[1]}; Teams wants {expected}x{expected}")
        icons[file_name] = data
    return icons


def build_package(source: Path, output: Path, values: dict[str, str]) -> dict[str, Any]:
    manifest = fill((source / "manifest.json").read_text(encoding="utf-8"), values)
    check_manifest(manifest)
    icons = check_icons(source, manifest)
    output.parent.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(output, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("manifest.json", json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")
        for file_name, data in icons.items():
            archive.writestr(file_name, data)
    return manifest


def values_from(args: argparse.Namespace) -> dict[str, str]:
    bot_id = args.bot_id
    if not bot_id:
        from bot.settings import get_settings

        bot_id = get_settings().teams_client_id
    if not bot_id:
        raise PackageError(
            "no bot id: pass --bot-id or set CONNECTIONS__SERVICE_CONNECTION__SETTINGS__CLIENTID"
        )
    return {
        "BOT_ID": bot_id,
        "TEAMS_APP_ID": args.app_id or bot_id,
        "APP_VERSION": args.app_version,
        "WEBSITE_URL": args.website_url,
        "PRIVACY_URL": args.privacy_url,
        "TERMS_URL": args.terms_url,
    }


def run(args: argparse.Namespace) -> int:
    try:
        manifest = build_package(args.source, args.output, values_from(args))
    except (PackageError, OSError, json.JSONDecodeError, KeyError) as exc:
        print(f"ribot teams-package: {exc}", file=sys.stderr)
        return 1
    print(f"wrote {args.output} (app {manifest['id']}, version {manifest['version']})")
    return 0
