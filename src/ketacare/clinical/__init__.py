"""ketacare's functional core: clinical rules as pure, typed Python.

Nothing here imports Django, touches a database, reads a clock or does I/O beyond reading
the package's own data files; ``tests/test_architecture.py`` enforces the first rule.

Errors raised: :class:`ketacare.clinical.icd10.InvalidCode` (a ``ValueError``) for a code
that cannot be recorded; ``ValueError`` for impossible arithmetic inputs.
"""

from ketacare.clinical.anthropometrics import age_on, bmi
from ketacare.clinical.icd10 import InvalidCode

__all__ = ["InvalidCode", "age_on", "bmi"]
