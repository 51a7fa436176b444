"""A synthetic demo clinic: staff of every role and 60 patients with mixed anxiety-disorder
diagnoses, comorbidities, medications, allergies, weight histories and GAD-7/PHQ-9 courses.

Every name is invented. The generator is seeded, so every run creates the same clinic, and it is
idempotent: staff (by username) and patients (by MRN) are only created when missing. All writes
go through the services, so the demo data has its audit trail like real data."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from ketacare.accounts import passwords
from ketacare.accounts import services as accounts
from ketacare.accounts.actor import Actor
from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from ketacare.measures import services as measures
from ketacare.patients import services as patients
from ketacare.patients.models import Patient
from ketacare.site import (
    demo_clinic,
    demo_fhir,
    demo_records,
    demo_screening,
    demo_sessions,
    demo_staff,
    demo_waiting,
)

DEMO_PASSWORD = passwords.DEMO_PASSWORD  # printed by `ketacare demo`; refused for real accounts
PATIENT_COUNT = 60

STAFF = [
    ("admin", Role.ADMIN, "Avery", "Admin"),
    ("dr.okafor", Role.PRESCRIBER, "Chidi", "Okafor"),
    ("dr.lindqvist", Role.PRESCRIBER, "Maja", "Lindqvist"),
    ("nurse.reyes", Role.NURSE, "Lucia", "Reyes"),
    ("nurse.tanaka", Role.NURSE, "Ken", "Tanaka"),
    ("therapist.moreau", Role.THERAPIST, "Claire", "Moreau"),
    ("therapist.haddad", Role.THERAPIST, "Samir", "Haddad"),
    ("frontdesk.brooks", Role.FRONT_DESK, "Jordan", "Brooks"),
]

GIVEN = {
    "female": [
        "Amara",
        "Beatriz",
        "Chloe",
        "Dana",
        "Elif",
        "Farah",
        "Grace",
        "Hana",
        "Ingrid",
        "Jade",
        "Keiko",
        "Leila",
        "Mei",
        "Nadia",
        "Olivia",
        "Priya",
        "Rosa",
        "Sofia",
        "Talia",
        "Zoe",
    ],
    "male": [
        "Aaron",
        "Bilal",
        "Carlos",
        "Dmitri",
        "Emeka",
        "Felix",
        "Gabriel",
        "Hiro",
        "Isaac",
        "Jonas",
        "Kwame",
        "Liam",
        "Mateo",
        "Nikhil",
        "Omar",
        "Pavel",
        "Rafael",
        "Sven",
        "Tomas",
        "Yusuf",
    ],
    "other": ["Alex", "Rowan", "Sam", "Quinn"],
}
FAMILY = [
    "Abernathy",
    "Bergström",
    "Castillo",
    "Dubois",
    "Eze",
    "Fitzgerald",
    "García",
    "Horvat",
    "Ivanova",
    "Jensen",
    "Kowalski",
    "Laurent",
    "Mbeki",
    "Nakamura",
    "O'Brien",
    "Petrov",
    "Quintero",
    "Rossi",
    "Schmidt",
    "Thompson",
    "Ueda",
    "Varga",
    "Whitaker",
    "Xu",
    "Yilmaz",
    "Zielinski",
    "Novak",
    "Haddad",
    "Singh",
    "Murphy",
]
CITIES = [
    ("Portland", "OR", "972"),
    ("Seattle", "WA", "981"),
    ("Denver", "CO", "802"),
    ("Austin", "TX", "787"),
    ("Boston", "MA", "021"),
]
RELATIONS = ["spouse", "partner", "mother", "father", "sister", "brother", "friend", "adult child"]

# Primary anxiety-disorder presentations and comorbidities they travel with (ICD-10-CM).
PRESENTATIONS = [
    ("F41.1", ["F33.1", "F32.1", "F41.0", "F40.10"]),
    ("F40.11", ["F33.1", "F41.1", "F10.21"]),
    ("F40.10", ["F32.A", "F41.1"]),
    ("F43.12", ["F33.2", "F41.0", "F10.20", "F12.20"]),
    ("F43.10", ["F33.1", "F41.1"]),
    ("F42.2", ["F33.1", "F41.1", "F90.0"]),
    ("F41.0", ["F40.01", "F33.0", "F41.1"]),
]
MEDICAL = ["I10", "G47.33", "E66.9", "H40.9", "K76.9"]

# (generic name, dose choices in the unit, unit, frequency): common anxiety pharmacotherapy.
MEDICATIONS: dict[str, list[tuple[str, list[str], str, str]]] = {
    "antidepressant": [
        ("sertraline", ["50", "100", "150", "200"], "mg", "once daily"),
        ("escitalopram", ["10", "15", "20"], "mg", "once daily"),
        ("fluoxetine", ["20", "40", "60"], "mg", "every morning"),
        ("paroxetine", ["20", "40"], "mg", "once daily"),
        ("venlafaxine", ["75", "150", "225"], "mg", "once daily"),
        ("duloxetine", ["60", "90"], "mg", "once daily"),
        ("fluvoxamine", ["100", "200"], "mg", "twice daily"),
        ("clomipramine", ["75", "150"], "mg", "at bedtime"),
    ],
    "adjunct": [
        ("buspirone", ["10", "15", "30"], "mg", "twice daily"),
        ("clonazepam", ["0.5", "1"], "mg", "as needed"),
        ("lorazepam", ["0.5", "1"], "mg", "as needed"),
        ("prazosin", ["1", "2", "5"], "mg", "at bedtime"),
        ("hydroxyzine", ["25", "50"], "mg", "as needed"),
        ("aripiprazole", ["2", "5"], "mg", "once daily"),
        ("lamotrigine", ["100", "200"], "mg", "once daily"),
        ("quetiapine", ["25", "50"], "mg", "at bedtime"),
        ("propranolol", ["10", "20"], "mg", "as needed"),
        ("bupropion", ["150", "300"], "mg", "every morning"),
    ],
    "medical": [
        ("amlodipine", ["5", "10"], "mg", "once daily"),
        ("levothyroxine", ["50", "75", "100"], "mcg", "every morning"),
        ("atorvastatin", ["10", "20", "40"], "mg", "at bedtime"),
        ("metformin", ["500", "1000"], "mg", "twice daily"),
    ],
}
ALLERGIES = [
    ("penicillin", "hives", "moderate"),
    ("sulfonamides", "rash", "mild"),
    ("codeine", "nausea and vomiting", "mild"),
    ("latex", "contact dermatitis", "mild"),
    ("lamotrigine", "rash", "severe"),
    ("shellfish", "anaphylaxis", "severe"),
]


@dataclass(frozen=True)
class Seeded:
    staff_created: int
    patients_created: int
    sessions_created: int = 0


def _staff(actor: Actor) -> tuple[int, list[User], list[User]]:
    created = 0
    for username, role, first, last in STAFF:
        if not User.objects.filter(username=username).exists():
            accounts.create_user(
                actor,
                username=username,
                password=DEMO_PASSWORD,
                demo_clinic=True,
                role=role,
                first_name=first,
                last_name=last,
                email=f"{username}@demo-clinic.example",
            )
            created += 1
    prescribers = list(User.objects.filter(username__startswith="dr.").order_by("username"))
    therapists = list(User.objects.filter(username__startswith="therapist.").order_by("username"))
    return created, prescribers, therapists


# The clinicians who manage the patients' anxiety treatment and referred them (synthetic). Chosen
# by patient number, not by the seeded generator, so the rest of the demo stays as it was; every
# tenth patient has no referrer recorded, so the letter's "record the referrer first" shows too.
REFERRERS = [
    {
        "referrer_name": "Dr. Helen Marsh",
        "referrer_credentials": "MD, psychiatrist",
        "referrer_practice": "Riverside Psychiatry",
        "referrer_address": "210 River Road, Suite 4\nPortland, OR 97204",
        "referrer_phone": "+1 503 555 0142",
        "referrer_fax": "+1 503 555 0143",
        "referrer_email": "h.marsh@riverside-psych.example",
    },
    {
        "referrer_name": "Samuel Ortiz",
        "referrer_credentials": "PMHNP-BC",
        "referrer_practice": "Eastside Family Health",
        "referrer_address": "88 Alder Street\nSeattle, WA 98104",
        "referrer_phone": "+1 206 555 0178",
        "referrer_fax": "",
        "referrer_email": "s.ortiz@eastside-health.example",
    },
    {
        "referrer_name": "Dr. Priya Raman",
        "referrer_credentials": "MD, primary care",
        "referrer_practice": "Maple Grove Clinic",
        "referrer_address": "5 Maple Grove\nBoise, ID 83702",
        "referrer_phone": "+1 208 555 0110",
        "referrer_fax": "+1 208 555 0111",
        "referrer_email": "",
    },
]


def _referrer(n: int) -> dict[str, str]:
    return {} if n % 10 == 0 else REFERRERS[n % len(REFERRERS)]


def _phone(rng: random.Random) -> str:
    return f"+1 555 {rng.randint(100, 999)} {rng.randint(1000, 9999)}"


def _registration(
    rng: random.Random, n: int, today: date, prescribers: list[User], therapists: list[User]
) -> dict[str, Any]:
    sex = rng.choices(["female", "male", "other"], weights=[55, 42, 3])[0]
    given, family = rng.choice(GIVEN[sex]), rng.choice(FAMILY)
    city, region, zip3 = rng.choice(CITIES)
    escort = rng.random() < 0.85
    birth = today - timedelta(days=rng.randint(19 * 365, 72 * 365))
    return {
        "mrn": f"DEMO-{n:04d}",
        "given_name": given,
        "family_name": family,
        "date_of_birth": birth,
        "sex": sex,
        "pronouns": {"female": "she/her", "male": "he/him", "other": "they/them"}[sex],
        "phone": _phone(rng),
        "email": f"{given.lower()}.{n}@example.org",
        "address_line": f"{rng.randint(10, 9999)} {rng.choice(['Oak', 'Elm', 'Pine', 'Cedar'])} St",
        "city": city,
        "region": region,
        "postal_code": f"{zip3}{rng.randint(10, 99)}",
        "emergency_contact_name": f"{rng.choice(GIVEN['female'] + GIVEN['male'])} {family}",
        "emergency_contact_relationship": rng.choice(RELATIONS),
        "emergency_contact_phone": _phone(rng),
        "support_person_name": f"{rng.choice(GIVEN['female'] + GIVEN['male'])} {family}"
        if escort
        else "",
        "support_person_relationship": rng.choice(RELATIONS) if escort else "",
        "support_person_phone": _phone(rng) if escort else "",
        "primary_prescriber": rng.choice(prescribers),
        "therapist": rng.choice([*therapists, None]),
        **_referrer(n),
    }


def _clinical(rng: random.Random, today: date) -> dict[str, list[dict[str, Any]]]:
    primary, comorbid = rng.choice(PRESENTATIONS)
    codes = [primary, *rng.sample(comorbid, rng.randint(0, 2))]
    if rng.random() < 0.3:
        codes.append(rng.choice(MEDICAL))
    diagnoses = [
        {
            "code": c,
            "is_primary": i == 0,
            "diagnosed_on": today - timedelta(days=rng.randint(200, 4000)),
        }
        for i, c in enumerate(codes)
    ]
    picks = [rng.choice(MEDICATIONS["antidepressant"])]
    picks += rng.sample(MEDICATIONS["adjunct"], rng.randint(0, 2))
    if any(c in MEDICAL for c in codes) or rng.random() < 0.15:
        picks.append(rng.choice(MEDICATIONS["medical"]))
    medications = [
        {
            "name": name,
            "dose_amount": Decimal(rng.choice(doses)),
            "dose_unit": unit,
            "frequency": freq,
            "started_on": today - timedelta(days=rng.randint(30, 1500)),
        }
        for name, doses, unit, freq in picks
    ]
    allergies = [
        dict(zip(("substance", "reaction", "severity"), a, strict=True))
        for a in rng.sample(ALLERGIES, rng.choice([0, 0, 0, 1, 1, 2]))
    ]
    height = Decimal(rng.randint(150, 195))
    weight = Decimal(rng.randint(48, 130))
    measurements = [
        {
            "measured_on": today - timedelta(days=days),
            "weight_kg": weight + Decimal(rng.randint(-30, 30)) / 10,
            "height_cm": height,
        }
        for days in sorted(rng.sample(range(1, 365), rng.randint(1, 4)), reverse=True)
    ]
    return {
        "diagnoses": diagnoses,
        "medications": medications,
        "allergies": allergies,
        "measurements": measurements,
    }


def _measures(
    actor: Actor, patient: Patient, rng: random.Random, now: datetime, wsas_rng: random.Random
) -> None:
    """A course of treatment as the measures show it: a GAD-7 and PHQ-9 baseline, a drop hours
    after each of six sessions (steep for about two in three, slight for the rest, down to a
    floor that is often above remission), and weekly follow-up that holds for most patients and
    drifts back for some; now and then PHQ-9 item 9 is endorsed (a safety alert). The WSAS
    (functioning) follows the GAD-7 at baseline and every other follow-up week, drawn from its
    own ``wsas_rng`` so the other answers stay as they were."""
    base_gad, base_phq = rng.randint(11, 20), rng.randint(8, 22)
    relapse = rng.random() < 0.3
    per_session, floor = rng.choice([3, 3, 2, 2, 1, 1]), rng.randint(1, 8)
    start = now - timedelta(days=rng.randint(40, 80))
    measures.record_response(
        actor, patient, "gad7", _answers(rng, base_gad, 7), context="baseline", completed_at=start
    )
    measures.record_response(
        actor,
        patient,
        "phq9",
        _answers(rng, base_phq, 9, item9=0),
        context="baseline",
        completed_at=start,
    )
    _wsas(actor, patient, wsas_rng, base_gad, "baseline", start)
    for session in range(6):  # induction: twice a week
        dosed = start + timedelta(days=2 + session * 3.5, hours=10)
        level = max(floor, base_gad - per_session * (session + 1) - rng.randint(0, 2))
        measures.record_response(
            actor,
            patient,
            "gad7",
            _answers(rng, level, 7),
            context="post_session",
            hours_after_dose=Decimal("4"),
            completed_at=dosed + timedelta(hours=4),
        )
    for week in range(1, 6):
        when = start + timedelta(days=21 + week * 7)
        if when > now:
            break
        drift = week * 2 if relapse else 0
        settled = max(floor, base_gad // 3, base_gad - per_session * 6)
        level = min(21, max(0, settled + drift + rng.randint(-1, 1)))
        measures.record_response(
            actor, patient, "gad7", _answers(rng, level, 7), context="follow_up", completed_at=when
        )
        if week % 2:
            _wsas(actor, patient, wsas_rng, level, "follow_up", when)
        item9 = 1 if relapse and week == 5 and rng.random() < 0.5 else 0
        measures.record_response(
            actor,
            patient,
            "phq9",
            _answers(rng, max(0, base_phq // 2 + drift), 9, item9=item9),
            context="follow_up",
            completed_at=when,
        )


def _wsas(
    actor: Actor, patient: Patient, rng: random.Random, gad: int, context: str, when: datetime
) -> None:
    """A WSAS in step with a GAD-7 total: the 0-21 scale stretched to 0-40, a little damped."""
    total = max(0, round(gad * 40 / 21 * 0.85) + rng.randint(-3, 3))
    answers = _answers(rng, total, 5, top=8)
    measures.record_response(actor, patient, "wsas", answers, context=context, completed_at=when)


def _answers(
    rng: random.Random, total: int, items: int, item9: int | None = None, top: int = 3
) -> list[int]:
    """Item answers (0-``top``) summing to ``total``, spread at random; PHQ-9 item 9 set apart."""
    free = items - (1 if item9 is not None else 0)
    total = min(total, top * free)
    answers = [0] * free
    for _ in range(total):
        answers[rng.choice([i for i, v in enumerate(answers) if v < top])] += 1
    return answers + ([item9] if item9 is not None else [])


def seed(count: int = PATIENT_COUNT, seed_value: int = 2026) -> Seeded:
    actor = Actor.system("ketacare demo")
    staff_created, prescribers, therapists = _staff(actor)
    admin = User.objects.get(username="admin")
    demo_clinic.seed_settings(admin)
    demo_staff.seed_credentials(admin)
    demo_staff.seed_roster(admin, timezone.localdate())
    demo_staff.seed_roster(admin, timezone.localdate() + timedelta(days=1))
    rng, today = random.Random(seed_value), timezone.localdate()
    existing = set(Patient.objects.filter(mrn__startswith="DEMO-").values_list("mrn", flat=True))
    created = 0
    for n in range(1, count + 1):
        registration = _registration(rng, n, today, prescribers, therapists)
        clinical = _clinical(rng, today)  # drawn even when skipped, so the sequence stays stable
        if registration["mrn"] in existing:
            continue
        if not clinical["allergies"]:
            registration["no_known_allergies"] = rng.random() < 0.8
        patient = patients.register_patient(actor, registration, clinical)
        if n % 5 != 0:  # most patients are in treatment; some are still being assessed
            _measures(
                actor,
                patient,
                random.Random(seed_value * 1000 + n),
                timezone.now(),
                random.Random(f"wsas-{seed_value}-{n}"),
            )
        created += 1
    demo_fhir.seed()  # a referral's scores, taken in from the referring practice's EHR
    nurse, verifier = (User.objects.get(username=u) for u in ("nurse.reyes", "nurse.tanaka"))
    demo_staff.cover(admin, nurse, timezone.now())  # a demo seeded before or after hours
    sessions = demo_sessions.seed_today(prescribers[0], nurse, verifier)
    demo_waiting.seed(nurse)  # a prescriber's decision waits at the gate
    demo_screening.seed(nurse, prescribers[0])
    demo_records.seed(nurse, User.objects.get(username="frontdesk.brooks"))
    demo_clinic.seed_desk(prescribers[0], User.objects.get(username="frontdesk.brooks"))
    return Seeded(staff_created=staff_created, patients_created=created, sessions_created=sessions)
