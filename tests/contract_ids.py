"""The ids fixed by CONTRACT.md, written out here so tests check the product against the contract."""

from __future__ import annotations

CONTACT_IDS = frozenset(
    {
        "department_admin_support",
        "gvs",
        "network_coordinator",
        "international_office",
        "scientific_ombudsman",
        "ethics_committee",
        "animal_welfare_body",
        "security_forum",
    }
)
SECTION_IDS = frozenset(
    {
        "1",
        "2",
        "3",
        "3.1",
        "3.2",
        "4",
        "4.1",
        "4.2",
        "4.3",
        "4.4",
        "4.5",
        "meta",
        *(f"fn{n}" for n in range(1, 7)),
    }
)
ROLE_IDS = frozenset(
    {
        "individual_researcher",
        "research_group_and_department",
        "programme_board",
        "course_education_board",
        "immediate_supervisor",
        "head_of_department",
        "dean_higher_education",
        "agreement_signatory",
        "manager",
    }
)
RISK_AREAS = ("swedish_context", "own_activities", "foreign_context", "partner", "design")
