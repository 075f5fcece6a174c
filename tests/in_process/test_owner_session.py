"""The owner's signed session cookie, through Flask's test client: it is signed and
checked with the app's current keys, whichever request comes first."""
from __future__ import annotations

import pytest

PASSWORD = "correct horse battery staple"


@pytest.mark.settings(OWNER_PASSWORD=PASSWORD)
def test_a_new_secret_key_signs_the_owner_out_unless_the_old_one_is_a_fallback(app, client):
    assert client.post("/owner/session", json={"password": PASSWORD}).status_code == 204
    assert client.get("/owner/session").status_code == 200
    old_key = app.secret_key
    app.secret_key = "a key the cookie was not signed with"
    assert client.get("/owner/session").status_code == 401
    app.config["SECRET_KEY_FALLBACKS"] = [old_key]
    assert client.get("/owner/session").status_code == 200
