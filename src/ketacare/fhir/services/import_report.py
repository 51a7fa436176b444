"""What became of each entry of an import: its outcome, the words a clinician reads for it, and
an OperationOutcome per entry; :class:`ImportReport` holds them for a whole input."""

from __future__ import annotations

from dataclasses import dataclass, field

from ketacare.fhir.build.datatypes import Json


class Outcome:
    CREATED = "created"
    MATCHED = "matched"
    DUPLICATE = "duplicate"
    NOT_IMPORTED = "not imported"
    FAILED = "failed"
    ROLLED_BACK = "rolled back"  # would have been saved, but the transaction failed


# What a clinician reads for each kind of record and each outcome.
KIND_WORDS = {
    "Patient": "Patient",
    "Condition": "Diagnosis",
    "MedicationRequest": "Medication",
    "AllergyIntolerance": "Allergy",
    "Observation": "Observation",
    "QuestionnaireResponse": "Questionnaire",
    "Practitioner": "Staff member",
    "Questionnaire": "Questionnaire form",
    "Encounter": "Visit",
    "MedicationAdministration": "Dose given",
    "AdverseEvent": "Adverse event",
    "Consent": "Consent",
    "CarePlan": "Care plan",
    "Provenance": "Signature record",
}
OUTCOME_WORDS = {
    Outcome.CREATED: "Stored",
    Outcome.MATCHED: "Already on record (matched)",
    Outcome.DUPLICATE: "Already on record (skipped)",
    Outcome.NOT_IMPORTED: "Not taken in",
    Outcome.FAILED: "Refused: nothing of it saved",
    Outcome.ROLLED_BACK: "Not saved (the file's transaction failed)",
}


@dataclass
class EntryResult:
    number: int
    resource_type: str
    resource_id: str
    outcome: str
    message: str
    path: str = ""
    issue_code: str = "informational"
    created: str = ""  # what was stored, e.g. "Response 12"

    @property
    def label(self) -> str:
        return KIND_WORDS.get(self.resource_type, self.resource_type or "Unknown")

    @property
    def outcome_words(self) -> str:
        return OUTCOME_WORDS.get(self.outcome, self.outcome)

    @property
    def severity(self) -> str:
        severity = {Outcome.FAILED: "error", Outcome.NOT_IMPORTED: "warning"}
        return severity.get(self.outcome, "information")

    def operation_outcome(self) -> Json:
        issue: Json = {
            "severity": self.severity,
            "code": self.issue_code,
            "diagnostics": f"entry {self.number} ({self.resource_type or 'no type'}): "
            f"{self.outcome}: {self.message}",
        }
        if self.path:
            issue["expression"] = [self.path]
        return {"resourceType": "OperationOutcome", "issue": [issue]}


@dataclass
class ImportReport:
    kind: str
    source: str
    entries: list[EntryResult] = field(default_factory=list)
    rolled_back: bool = False

    @property
    def failed(self) -> list[EntryResult]:
        return [e for e in self.entries if e.outcome == Outcome.FAILED]

    def tally(self) -> dict[str, int]:
        found: dict[str, int] = {}
        for entry in self.entries:
            found[entry.outcome] = found.get(entry.outcome, 0) + 1
        return found

    def operation_outcome(self) -> Json:
        """Every entry's issue, errors first."""
        order = {"error": 0, "warning": 1, "information": 2}
        entries = sorted(self.entries, key=lambda e: (order[e.severity], e.number))
        issues = [i for e in entries for i in e.operation_outcome()["issue"]]
        return {"resourceType": "OperationOutcome", "issue": issues or [_all_fine()]}


def _all_fine() -> Json:
    return {"severity": "information", "code": "informational", "diagnostics": "nothing to import"}
