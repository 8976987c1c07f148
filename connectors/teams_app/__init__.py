"""The Teams app package's sources, shipped inside the wheel: manifest.json with `${{NAME}}` placeholders and
the two icons (`python deploy/teams/make_icons.py` redraws them). `ribot teams-package` fills them in."""
