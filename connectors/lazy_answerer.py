"""An Answerer that loads the retriever (embedding model, index) only when the first question arrives, so
an assessment that never needs an answer starts instantly."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING

from bot.followup import Context
from bot.types import Answer

if TYPE_CHECKING:
    from bot.answering import Answerer


class LazyAnswerer:
    def __init__(self) -> None:
        self._answerer: object | None = None
        self._lock = threading.Lock()

    def _loaded(self) -> Answerer:
        from bot.answering import Answerer

        with self._lock:
            if self._answerer is None:
                from bot.settings import get_settings
                from knowledge.index import open_retriever

                self._answerer = Answerer(open_retriever(get_settings()))
        assert isinstance(self._answerer, Answerer)
        return self._answerer

    def ask(self, question: str, context: Context | None = None) -> Answer:
        return self._loaded().ask(question, context)

    def situation(self, text: str) -> dict[str, str]:
        return self._loaded().situation(text)
