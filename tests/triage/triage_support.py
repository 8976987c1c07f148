"""Helpers for the triage tests: a hand-written Answerer with the real interface, a chat driver, and the
`ribot` command run as a process, whole or line by line."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

from bot.conversation import ConversationEngine
from bot.types import Answer, Citation, Reply, Turn
from knowledge.corpus import section_passages

REPO = Path(__file__).resolve().parents[2]
RIBOT = Path(sys.executable).parent / "ribot"


def ribot(
    args: list[str], stdin: str, data_dir: Path, cwd: Path = REPO, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    """`ribot ARGS` with `stdin`, on the data folder given and the embedded database unless ARGS name one."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "RIBOT_DATA_DIR": str(data_dir)}
    env.pop("DATABASE_URL", None)
    return subprocess.run(
        [str(RIBOT), *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=timeout,
        check=False,
    )


class RecordingAnswerer:
    """Answers every question with the first sentence of section 3.2, quoted, and remembers the questions."""

    def __init__(self) -> None:
        self.questions: list[str] = []

    def ask(self, question: str, context: object = None) -> Answer:
        self.questions.append(question)
        passage = section_passages("3.2")[1]
        citation = Citation(section="3.2", title=passage.title, quote=passage.text, score=0.9)
        return Answer(
            answer=f"From the guidelines: {passage.text}", grounded=True, citations=(citation,), contacts=()
        )


class Chat:
    """One user in one conversation: send text or press buttons, keep the replies."""

    def __init__(
        self, engine: ConversationEngine, conversation: str = "", user: str = "u1", platform: str = "web"
    ):
        self.engine = engine
        self.turn = Turn(platform=platform, conversation_id=conversation or uuid.uuid4().hex, user_id=user)
        self.replies: list[Reply] = []

    def say(self, text: str) -> list[Reply]:
        self.replies = self.engine.handle(Turn(**{**self.turn.__dict__, "text": text}))
        return self.replies

    def press(self, action: str) -> list[Reply]:
        self.replies = self.engine.handle(Turn(**{**self.turn.__dict__, "action": action}))
        return self.replies

    def triage(self, text: str = "", answers: dict[str, str] | None = None) -> list[Reply]:
        self.replies = self.engine.triage(Turn(**{**self.turn.__dict__, "text": text}), answers)
        return self.replies

    @property
    def last(self) -> Reply:
        return self.replies[-1]

    @property
    def question(self) -> dict[str, Any]:
        assert self.last.question is not None, f"expected a question, got {self.last.kind}: {self.last.text}"
        return self.last.question

    @property
    def outcome(self) -> dict[str, Any]:
        assert self.last.outcome is not None, f"expected an outcome, got {self.last.kind}: {self.last.text}"
        return self.last.outcome


class Lines:
    """A `ribot` JSON-lines process: one line in, one line out."""

    def __init__(self, command: list[str], data_dir: Path, log: Path) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "RIBOT_DATA_DIR": str(data_dir)}
        env.pop("DATABASE_URL", None)
        self._log = log.open("w")
        self.process = subprocess.Popen(
            [str(RIBOT), *command],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._log,
            text=True,
            cwd=REPO,
            env=env,
        )

    def send(self, data: dict[str, Any]) -> dict[str, Any]:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(json.dumps(data) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        assert line, f"ribot exited: {self.process.poll()}"
        result: dict[str, Any] = json.loads(line)
        return result

    def close(self) -> None:
        assert self.process.stdin is not None
        self.process.stdin.close()
        assert self.process.wait(60) == 0
        self._log.close()
