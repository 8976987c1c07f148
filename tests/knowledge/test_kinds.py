"""The classifier of question kinds: what answering computes with numpy is what scikit-learn fitted, the
fitted model is kept with the index and fitted again only when the examples change, and it decides the kind
of question and the scope on messages written for these tests (none is in an evaluation set)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from knowledge import kinds

pytestmark = pytest.mark.slow


def _examples(retriever: Any) -> tuple[list[str], list[str], np.ndarray]:
    index = retriever.intents
    return list(index.labels), list(index.texts), np.asarray(index.vectors)


def test_numpy_reproduces_scikit_learn(retriever: Any) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    labels, texts, vectors = _examples(retriever)
    model = retriever.kinds
    lexical = [model.lexical_text(t) for t in texts]
    vectorizer = TfidfVectorizer(analyzer=kinds.terms, sublinear_tf=True).fit(lexical)
    queries = ["Who signs off our exchange agreement?", "vem får resultatet?", "a b c", ""]
    ours = model.tfidf(queries)
    theirs = vectorizer.transform([model.lexical_text(q) for q in queries]).toarray()
    columns = [vectorizer.vocabulary_[t] for t in sorted(model.vocabulary, key=model.vocabulary.__getitem__)]
    assert np.allclose(ours, theirs[:, columns])
    regression = LogisticRegression(C=kinds.C, max_iter=5000).fit(
        np.hstack(
            [kinds.EMBEDDING_WEIGHT * vectors.astype(np.float64), vectorizer.transform(lexical).toarray()]
        ),
        labels,
    )
    encoded = retriever.encoder.encode(queries)
    expected = regression.predict_proba(
        np.hstack(
            [
                kinds.EMBEDDING_WEIGHT * encoded.astype(np.float64),
                vectorizer.transform([model.lexical_text(q) for q in queries]).toarray(),
            ]
        )
    )
    assert list(regression.classes_) == list(model.classes)
    assert np.allclose(model.probabilities(encoded, queries), expected, atol=1e-4)


def test_the_model_is_kept_and_refitted_only_for_other_examples(retriever: Any, tmp_path: Path) -> None:
    labels, texts, vectors = _examples(retriever)
    first = kinds.open_kinds(tmp_path, labels, texts, vectors, str.lower)
    kept = (tmp_path / kinds.KINDS_FILE).stat().st_mtime_ns
    again = kinds.open_kinds(tmp_path, labels, texts, vectors, str.lower)
    assert (tmp_path / kinds.KINDS_FILE).stat().st_mtime_ns == kept
    assert np.array_equal(first.coef, again.coef) and first.classes == again.classes
    other = kinds.open_kinds(tmp_path, labels[:-1], texts[:-1], vectors[:-1], str.lower)
    assert (tmp_path / kinds.KINDS_FILE).stat().st_mtime_ns != kept
    assert other.coef.shape[1] <= first.coef.shape[1]
    (tmp_path / kinds.KINDS_FILE).write_bytes(b"not a model")
    assert kinds.open_kinds(tmp_path, labels, texts, vectors, str.lower).classes == first.classes


def test_answering_does_not_import_scikit_learn(retriever: Any) -> None:
    import subprocess
    import sys

    code = (
        "import sys\n"
        "from knowledge.kinds import KindModel\n"
        "from bot.answering import Answerer\n"
        "assert 'sklearn' not in sys.modules, 'sklearn imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("question", "section", "fact"),
    [
        # the question's own predicate decides, though the story around it is about the agreement
        (
            "We signed a data-sharing contract with a hospital in Peru last month. Now that the group has "
            "assessed the risks, whom must the result go to?",
            "3.2",
            "immediate supervisor",
        ),
        (
            "Our department runs a master's programme that is swapping students with a university in Chile. "
            "After the assessment, who has the last word on signing?",
            "3.2",
            "delegation scheme",
        ),
        (
            "Vem bestämmer om vårt avtal med universitetet i Ghana får skrivas under?",
            "3.2",
            "delegationsordningen",
        ),
        # a Swedish term in an English question
        ("What's the diarienummer of these guidelines?", "meta", "1-1181/2025"),
    ],
)
def test_the_kind_of_question_is_read_from_the_question(
    answerer: Any, question: str, section: str, fact: str
) -> None:
    answer = answerer.ask(question)
    assert answer.grounded and answer.citations[0].section == section, answer.answer
    assert fact in answer.answer.split("\n\n", 1)[0], answer.answer


def test_a_worry_in_the_users_own_words_is_the_concern(answerer: Any) -> None:
    answer = answerer.ask(
        "We collect blood samples with a clinic abroad. I doubt the donors there really agree to what is "
        "done with their samples. Who do I bring this to?"
    )
    ids = [c.id for c in answer.contacts]
    assert answer.grounded and {"network_coordinator", "scientific_ombudsman"} & set(ids), answer.answer
    assert answer.understood["slots"].get("ethical_concern") == "yes"


def test_what_a_question_sets_aside_is_not_what_it_asks(answerer: Any) -> None:
    answer = answerer.ask(
        "Apart from telling the Animal Welfare Body, does KI have ethical guidelines of its own for animal "
        "studies outside Sweden?"
    )
    assert answer.citations[0].section in {"fn3", "2"}, answer.answer


def test_a_relative_clause_is_not_a_question_of_its_own() -> None:
    from bot.reading import question_parts

    message = "Our course, which KU does not manage, plans a trip abroad. Who assesses the risks?"
    assert question_parts(message) == ["Who assesses the risks?"]
    framed = "For a joint degree, who assesses the risks, and who then decides?"
    assert question_parts(framed) == ["For a joint degree, who assesses the risks", "who then decides?"]
