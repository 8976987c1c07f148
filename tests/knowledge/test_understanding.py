"""What understanding a question means, capability by capability, on questions written for these tests
(none of them is in an evaluation set): the situation decides the lead, premises are corrected, the asker
is never sent to themselves, document data and footnotes are answered with the fact, every part of a
question is answered, scope is decided by evidence, and Swedish gets Swedish."""

from __future__ import annotations

from typing import Any

import pytest

pytestmark = pytest.mark.slow


def lead(answer: Any) -> str:
    return str(answer.answer).split("\n\n", 1)[0]


@pytest.mark.parametrize(
    ("question", "fact", "absent"),
    [
        (
            "Me and an old friend at a lab in Peru swap reagents now and then, no paperwork. Who assesses the risks?",
            "individual researcher/supervisor",
            "research group and department",
        ),
        (
            "We are signing a memorandum of understanding for joint research with an institute in Vietnam. "
            "Who assesses the risks?",
            "research group and department",
            "individual researcher",
        ),
        (
            "My master's course wants a joint seminar series with a university in Ghana. Who assesses the risks?",
            "education board at the department responsible for the course",
            "programme-responsible board",
        ),
        (
            "Our nursing programme, which KU manages, wants a new partner for placements. Who gets the outcome "
            "of the risk assessment?",
            "dean for higher education",
            "immediate supervisor",
        ),
        (
            "For an informal research exchange of mine, whom do I give the outcome of the risk assessment?",
            "immediate supervisor",
            "dean for higher education",
        ),
    ],
)
def test_the_situation_decides_the_lead(answerer: Any, question: str, fact: str, absent: str) -> None:
    answer = answerer.ask(question)
    assert answer.grounded and answer.citations[0].section in {"3.2", "fn5"}
    assert fact in lead(answer) and absent not in lead(answer), lead(answer)
    assert not answer.offer_assessment


def test_an_unclear_situation_lists_the_cases_and_offers_the_assessment(answerer: Any) -> None:
    answer = answerer.ask("Whose task is the risk assessment?")
    text = lead(answer)
    assert text.startswith("It depends") and answer.offer_assessment
    for role in (
        "individual researcher/supervisor",
        "research group and department",
        "programme-responsible board",
    ):
        assert role in text


@pytest.mark.parametrize(
    ("question", "section", "fact"),
    [
        ("Once the Security Forum has approved our partnership, can we sign?", "4.5", "advisory"),
        (
            "I will send our plan to the ethics committee so that they can approve it.",
            "4.3",
            "advisory opinions",
        ),
        (
            "Since the Animal Welfare Body only advises, we don't need to contact it for the rat studies our "
            "partner in Chile runs, right?",
            "4.4",
            "has to be contacted",
        ),
        (
            "The International Office does the risk assessment for us, correct?",
            "3.2",
            "risk assessment is carried out",
        ),
    ],
)
def test_a_wrong_premise_is_corrected_first(answerer: Any, question: str, section: str, fact: str) -> None:
    answer = answerer.ask(question)
    assert lead(answer).startswith("No:"), lead(answer)
    assert fact in lead(answer)
    assert section in [c.section for c in answer.citations[:3]]


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        (
            "Risk assessments are only for collaborations with a signed contract, so my informal data swap with "
            "a group in Peru is exempt, isn't it?",
            "individual researcher/supervisor",
        ),
        (
            "Our programme only runs courses, and I was told risk assessments are only needed for research. "
            "So nothing to do for our course's joint module with a university in Ghana?",
            "education board at the department responsible for the course",
        ),
    ],
)
def test_a_premise_that_exempts_a_situation_is_corrected_with_its_rule(
    answerer: Any, question: str, fact: str
) -> None:
    text = lead(answerer.ask(question))
    assert text.startswith("No: the guidelines do not limit risk assessments") and fact in text, text


def test_a_true_premise_is_not_contradicted(answerer: Any) -> None:
    answer = answerer.ask(
        "The Animal Welfare Body has to be contacted when a partner abroad runs our mouse studies, right?"
    )
    assert not lead(answer).startswith("No") and "has to be contacted" in lead(answer)


def test_the_immediate_supervisor_is_not_taken_for_the_academic_supervisor(answerer: Any) -> None:
    answer = answerer.ask(
        "I'm a doctoral student with an informal project at a lab in Korea. My supervisor wants me to "
        "report the risk assessment to him. Is that right?"
    )
    assert "line manager" in lead(answer) and "immediate supervisor" in lead(answer)


@pytest.mark.parametrize(
    ("question", "never", "expected"),
    [
        (
            "As the network coordinator I have an ethical concern about a partner university that I cannot "
            "settle myself. What can I do?",
            "network_coordinator",
            "ethics_committee",
        ),
        (
            "I'm in our department's administrative support and a lecturer wants help with a risk assessment I "
            "can't answer. Who next?",
            "department_admin_support",
            "gvs",
        ),
        (
            "I'm a head of department and one of our partnerships raises a security question I must decide on. "
            "Who backs me up?",
            "head_of_department",
            "security_forum",
        ),
    ],
)
def test_askers_are_not_sent_to_themselves_and_get_their_own_way(
    answerer: Any, question: str, never: str, expected: str
) -> None:
    answer = answerer.ask(question)
    ids = [c.id for c in answer.contacts]
    assert never not in ids and expected in ids, ids


@pytest.mark.parametrize(
    ("question", "first"),
    [
        (
            "Ombudsman here. A lecturer came to me with an ethics problem about a partner in Brazil that goes "
            "beyond advice. Is there anywhere I can take it?",
            "The coordinator or the scientific ombudsman may, where necessary, escalate",
        ),
        (
            "We are the administrative support team of a clinical department. What is our part when a "
            "researcher needs help with a risk assessment?",
            "The department's administrative support team is where employees",
        ),
    ],
)
def test_an_asker_with_a_way_of_their_own_is_told_it_first(answerer: Any, question: str, first: str) -> None:
    assert lead(answerer.ask(question)).startswith(first)


def test_what_a_role_is_in_a_situation_leads_with_what_applies_there(answerer: Any) -> None:
    """In a programme whose responsibility lies with KU, the head of department's place is the dean's."""
    text = lead(answerer.ask("Our nursing programme is run by KU. Who is the head of department for us?"))
    assert text.startswith("For programmes whose programme responsibility is managed by KU"), text
    assert "ultimate responsibility" not in text  # stated for research, which this is not


@pytest.mark.parametrize(
    ("question", "fact", "absent"),
    [
        (
            "Quick intro: I became head of department in August. What does this document expect from me?",
            "ultimate responsibility",
            "purpose of the guidelines",
        ),
        (
            "I serve as a dean at KI. What part do the guidelines give me?",
            "deans shall regularly discuss",
            "purpose of the guidelines",
        ),
        (
            # the researchers named in passing are not whom "my role" is about
            "I run a department where individual researchers have many partners abroad. I want to get this "
            "right as head of department. What is my role?",
            "head of department has the ultimate responsibility",
            "individual researcher/supervisor",
        ),
    ],
)
def test_an_asker_asking_about_their_own_part_gets_what_the_text_asks_of_their_role(
    answerer: Any, question: str, fact: str, absent: str
) -> None:
    text = lead(answerer.ask(question))
    assert fact in text.lower() and absent not in text.lower(), text


@pytest.mark.parametrize(
    ("question", "fact"),
    [
        ("On what date did KI decide the guidelines?", "2026-05-26"),
        ("Who adopted this document?", "Rektor"),
        ("Is there an end date for the guidelines?", "until further notice"),
        ("What is the diarienummer?", "1-1181/2025"),
        ("Which office at KI is responsible for this document?", "Internationella kansliet"),
        ("Did the Faculty Board take part in preparing the guidelines?", "Fakultetsnämnden"),
        ("Does this document have a predecessor?", "Nytt styrdokument"),
        ("What type of document are these guidelines?", "Riktlinjer"),
    ],
)
def test_document_data_is_answered_with_the_fact(answerer: Any, question: str, fact: str) -> None:
    answer = answerer.ask(question)
    assert answer.citations[0].section == "meta" and fact in lead(answer), lead(answer)


@pytest.mark.parametrize(
    ("question", "section", "fact"),
    [
        (
            "What is the title of the national guidelines the text refers to?",
            "fn1",
            "Vägledande nationella riktlinjer",
        ),
        (
            "Is there a KI guideline on radiation safety that these guidelines refer to?",
            "fn2",
            "strålsäkerhet",
        ),
        (
            "Which guideline covers ethics for human research outside Sweden?",
            "fn3",
            "humanforskning utanför Sverige",
        ),
        ("Is there a code of conduct for students going on international mobility?", "fn4", "Uppförandekod"),
        ("What does the delegation footnote refer to?", "fn6", "besluts- och delegationsordning"),
    ],
)
def test_footnotes_are_answered_with_the_fact(answerer: Any, question: str, section: str, fact: str) -> None:
    answer = answerer.ask(question)
    assert section in [c.section for c in answer.citations[:3]] and fact in lead(answer), lead(answer)


def test_every_part_of_a_question_is_answered(answerer: Any) -> None:
    answer = answerer.ask(
        "For a formal research partnership, who does the risk assessment, and who then gets to decide?"
    )
    text = lead(answer)
    assert "research group and department" in text and "delegation scheme" in text


@pytest.mark.parametrize(
    ("question", "reason"),
    [
        ("How much is the daily allowance for a trip to our partner in Kenya?", "salaries"),
        ("Which Chinese universities are we forbidden to work with?", "no list of countries"),
        ("Can you draft the cooperation agreement with our partner for me?", "does not write"),
        ("What is the mobile number of the scientific ombudsman?", "name no people"),
        ("Do outgoing exchange students need a medical check before they leave?", "health requirements"),
        ("Is it fine to accept a paid advisory role at a company in Singapore?", "secondary employment"),
        ("In which system do we log an MoU once both sides have signed?", "registered"),
    ],
)
def test_near_misses_are_declined_with_a_reason(answerer: Any, question: str, reason: str) -> None:
    answer = answerer.ask(question)
    assert not answer.grounded and reason in answer.answer and answer.citations == ()
    assert [c.id for c in answer.contacts] == ["network_coordinator"]


def test_a_scope_the_text_states_is_respected(answerer: Any) -> None:
    answer = answerer.ask(
        "We run zebrafish experiments here at KI in Huddinge. Must we contact the Animal Welfare Body?"
    )
    assert not answer.grounded and "international activities" in answer.answer


@pytest.mark.parametrize(
    "question",
    [
        "who signs off on our collab in the end?? 🙏",
        "ombudsman - independent or not",
        "5 areas of risk assesment pls",
    ],
)
def test_casual_phrasings_are_answered(answerer: Any, question: str) -> None:
    assert answerer.ask(question).grounded


@pytest.mark.parametrize(
    "question",
    [
        "Who covers the insurance of our exchange students while they are in Japan?",
        "Which scholarships can our doctoral students get for a stay abroad?",
    ],
)
def test_a_near_miss_that_resembles_several_unanswered_kinds_is_declined(
    answerer: Any, question: str
) -> None:
    """Its probability is spread over the kinds it resembles, none of them alone above the answerable
    kind it shares words with."""
    assert not answerer.ask(question).grounded


@pytest.mark.parametrize(
    "question",
    [
        "My PhD supervisor counts as the immediate supervisor, so she gets my risk assessment, yes?",
        "Is 'immediate supervisor' in the guidelines the same person as my huvudhandledare?",
    ],
)
def test_an_academic_supervisor_equated_with_the_immediate_supervisor_is_set_apart(
    answerer: Any, question: str
) -> None:
    text = lead(answerer.ask(question))
    assert text.startswith("In the guidelines the immediate supervisor is the line manager"), text


@pytest.mark.parametrize(
    "question",
    ["What does Säkerhetsforum actually do?", "Who reports to the prefekt after a course risk assessment?"],
)
def test_an_english_question_naming_a_swedish_body_is_answered_in_english(
    answerer: Any, question: str
) -> None:
    answer = answerer.ask(question)
    assert answer.grounded and answer.language == "en", answer.answer


def test_swedish_gets_a_swedish_lead_and_swedish_contacts(answerer: Any) -> None:
    answer = answerer.ask("Vi ska göra djurförsök hos en partner i Brasilien. Vem måste vi kontakta?")
    assert answer.language == "sv" and answer.citations[0].section == "4.4"
    assert "djurskyddsorgan" in lead(answer) and "engelska originaltext" in answer.answer
    assert answer.contacts[0].id == "animal_welfare_body" and "djurförsök" in answer.contacts[0].why
    assert answer.citations[0].quote.startswith("For international collaborations")
    assert answer.citations[0].title == "KI:s djurskyddsorgan"  # the labels in Swedish, the quotes not


def test_english_answers_keep_the_documents_section_titles(answerer: Any) -> None:
    answer = answerer.ask("Whom must we contact when a partner in Brazil runs our animal experiments?")
    assert answer.citations[0].title == "KI's Animal Welfare Body"


def test_the_scope_cut_offs_are_the_fitted_ones(retriever: Any, dev_set: dict[str, Any]) -> None:
    """bot.answering.Scope says its defaults were fitted by connectors.scope_fit on the development sets:
    they must still be as good as the best grid point there."""
    from bot.answering import Scope
    from connectors.scope_fit import TIE, Point, grid, questions_of
    from tests.conftest import DEV_SETS

    inside, outside = questions_of(DEV_SETS)
    points = grid(retriever, inside, outside)
    top = max(p.balanced for p in points)
    chosen = next(p for p in points if p.scope == Scope())
    assert isinstance(chosen, Point) and chosen.balanced >= top - TIE
