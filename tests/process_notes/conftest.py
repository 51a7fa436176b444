from __future__ import annotations

import pytest

from ketacare.accounts.models import User
from ketacare.accounts.roles import Role
from tests.conftest import make_user


@pytest.fixture
def colleague(db: None) -> User:
    """Gina, a second therapist, who may be granted access to Theo's notes."""
    return make_user(Role.THERAPIST, "gina.grantee")
