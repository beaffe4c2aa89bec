"""Pure-code tests read messages in English (the message ids); the app tests switch per request."""

from __future__ import annotations

import pytest

from app.i18n import set_language


@pytest.fixture(autouse=True)
def english() -> None:
    set_language("en")
