"""Every write of a supervised session, by stage: :mod:`.gate` (check-in and the pre-dose gate),
:mod:`.administration` (witnessed dosing), :mod:`.observations` (vitals, alarms, ratings,
adverse events), :mod:`.lifecycle` (discharge, cancel, abort, titration), :mod:`.rems` (the REMS
form) and the audited reads in :mod:`.reads`. Each locks the session row through
:mod:`.primitives` and writes its audit events in the same transaction."""
