"""Names of countries and world regions, in English and Swedish (from Babel's CLDR data). Where a question
names a place abroad, what matters to the guidelines is only that it is abroad: the name itself is
replaced by the word, so that "a hospital in Brazil" and "a lab in Japan" read alike, and neither reads
like a request for a list of countries."""

from __future__ import annotations

import re
from functools import lru_cache

HOME = {"sweden", "sverige"}
# Short forms people write that CLDR does not list as names.
EXTRA = ("usa", "the us", "the uk", "uk", "the states", "usa:s", "storbritannien")


@lru_cache(maxsize=1)
def _pattern() -> re.Pattern[str]:
    from babel import Locale

    names: set[str] = set(EXTRA)
    for language in ("en", "sv"):
        names.update(n.lower() for n in Locale(language).territories.values() if len(n) > 2)
    names -= HOME
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(rf"(?<![\w-])(?:{alternatives})(?![\w-])")


def abroad_for_places(folded: str) -> str:
    """Lower-case text with each country or region abroad written as "abroad"."""
    return _pattern().sub("abroad", folded)
