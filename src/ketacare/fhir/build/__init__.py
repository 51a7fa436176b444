"""FHIR R4 resources built from ketacare's records with ``fhir.resources`` (R4B models, which
validate every element's type and refuse unknown ones), serialised to plain JSON objects.

One module per domain: :mod:`.chart` (Patient, Practitioner, Condition, MedicationRequest,
AllergyIntolerance, body weight and height), :mod:`.measures` (QuestionnaireResponse and score
Observations), :mod:`.sessions` (Encounter, vital signs, MedicationAdministration, AdverseEvent,
Consent), :mod:`.signed` (CarePlan, eligibility decisions and their Provenance) and
:mod:`.questionnaires` (SDC Questionnaires from the instrument files). Psychotherapy process notes
and the audit trail are never built."""
