"""The checks of a loaded flow that its schema cannot express: cross-references between its parts, the
model of the guidelines and the contact list, and what combined questions may settle."""

from __future__ import annotations

from knowledge.flow_types import Combined, Flow, FlowError, Ref, matches

# Messages the conversation code shows; the flow file must define each, in both languages.
MESSAGE_KEYS = frozenset(
    [
        "start",
        "understood",
        "noted",
        "answer_hint",
        "multiple_hint",
        "not_understood",
        "which_ones",
        "too_long",
        "empty",
        "unknown_command",
        "unknown_action",
        "help",
        "about_question",
        "nothing_to_undo",
        "unsure",
        "went_back",
        "cancelled",
        "not_active",
        "offer",
        "offer_declined",
        "resume",
        "expired",
        "escalation",
        "feedback_thanks",
        "outcome_intro",
        "responsible",
        "report_to",
        "decides",
        "ultimate",
        "raise_with",
        "nobody_named",
        "what_applies",
        "contacts",
        "risk_areas",
        "sources",
        "no_verdict",
        "summary_offer",
        "summary_title",
        "situation",
        "your_words",
        "date",
        "guideline_version",
        "no_summary",
        "checklist_hint",
        "label_start",
        "label_no_thanks",
        "label_back",
        "label_restart",
        "label_cancel",
        "label_person",
        "label_summary",
        "value_yes",
        "value_no",
    ]
)


def check(flow: Flow) -> None:
    """Cross-references the schema cannot express."""
    missing_messages = sorted(MESSAGE_KEYS - set(flow.messages))
    if missing_messages:
        raise FlowError(f"messages missing: {missing_messages}")
    asked = [q.slot for q in flow.questions]
    if sorted(asked) != sorted(flow.slots):
        raise FlowError("every slot needs exactly one question")
    for q in flow.questions:
        values = tuple(c.value for c in q.choices)
        if sorted(values) != sorted(flow.slot_values[q.slot]):
            raise FlowError(f"question {q.slot}: choices must be exactly {flow.slot_values[q.slot]}")
        if q.group is not None and (q.group not in flow.groups or q.option is None):
            raise FlowError(f"question {q.slot}: group {q.group!r} unknown or option text missing")
    _check_combined(flow)
    _check_model_refs(flow)
    if sorted({a.id for a in flow.risk_areas}) != sorted(a.id for a in flow.risk_areas):
        raise FlowError("risk areas must be distinct")
    _check_contacts(flow)


def _check_model_refs(flow: Flow) -> None:
    """Every clause and intent the flow names exists in the model of the guidelines."""
    from knowledge.model import guideline_model

    model = guideline_model()
    refs = [*flow.outcome.roles.values(), *flow.outcome.statements]
    refs += [Ref(intent=i) for c in flow.concerns.values() for i in c.intents]
    refs += [Ref(clause=cid) for c in flow.concerns.values() for cid in c.clauses]
    for ref in refs:
        if ref.intent is not None and ref.intent not in model.intents:
            raise FlowError(f"outcome: unknown intent {ref.intent!r}")
        if ref.clause is not None and ref.clause not in model.clauses:
            raise FlowError(f"outcome: unknown clause {ref.clause!r}")


def _check_contacts(flow: Flow) -> None:
    from knowledge.contacts import all_contacts, contact_rank

    known = {c.id for c in all_contacts()}
    unknown = [c.id for c in flow.outcome.contacts if c.id not in known]
    if unknown:
        raise FlowError(f"outcome: unknown contacts {unknown}")
    if contact_rank("department_admin_support") > contact_rank("gvs"):
        raise FlowError("contacts: the department's administrative support comes before GVS (4.1)")
    gatekeepers = max(contact_rank("network_coordinator"), contact_rank("scientific_ombudsman"))
    if contact_rank("ethics_committee") < gatekeepers:
        raise FlowError("contacts: the Ethics Committee comes after the contacts that reach it (4.3)")


def _check_combined(flow: Flow) -> None:
    for combined in flow.combined.values():
        where = f"combined question {combined.id}"
        if combined.id in flow.slot_values or combined.id in flow.groups:
            raise FlowError(f"{where}: its id is taken by a slot or a group, whose answers it would share")
        if flow.question(combined.head).group is not None:
            raise FlowError(f"{where}: its first slot must have a question of its own, not one of a group")
        if [c.head for c in flow.combined.values()].count(combined.head) > 1:
            raise FlowError(f"{where}: another combined question stands in for {combined.head}")
        _check_choices(flow, combined, where)


def _check_choices(flow: Flow, combined: Combined, where: str) -> None:
    """Each choice settles its first slot and only slots its own questions would ask for after it; no two
    choices are alike, and every value of the first slot can be chosen."""
    values = [c.value for c in combined.choices]
    if len(set(values)) != len(values):
        raise FlowError(f"{where}: choice values must be distinct")
    settings = [tuple(sorted(c.sets.items())) for c in combined.choices]
    if len(set(settings)) != len(settings):
        raise FlowError(f"{where}: two choices settle the same slots alike")
    for choice in combined.choices:
        if combined.head not in choice.sets:
            raise FlowError(f"{where}: choice {choice.value} must set {combined.head}")
        outside = sorted(set(choice.sets) - set(combined.slots))
        if outside:
            raise FlowError(f"{where}: choice {choice.value} sets {outside}, which are not among its slots")
        for slot in choice.sets:
            if slot != combined.head and not matches(flow.question(slot).when, choice.sets):
                raise FlowError(
                    f"{where}: choice {choice.value} sets {slot}, which the flow never asks after what the choice sets"
                )
    reached = {c.sets[combined.head] for c in combined.choices}
    if reached != set(flow.slot_values[combined.head]):
        missing = sorted(set(flow.slot_values[combined.head]) - reached)
        raise FlowError(f"{where}: no choice for {combined.head} {missing}")
    if {s for c in combined.choices for s in c.sets} != set(combined.slots):
        raise FlowError(f"{where}: every slot it lists must be set by some choice")
