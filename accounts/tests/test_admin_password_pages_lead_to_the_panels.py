"""Security review: the Django admin's own "change password" pages are not a second way
to change a password.

``/admin/password_change/`` (django.contrib.admin's view) changed the operator's password
with no audit event, no email notice, no per-user limit on guessing the current
password and no end of the other tracked sessions: a stolen superuser session could try
current passwords without limit there. It now leads to the panel's own page
(Settings > Security > Password), which does all of that.
"""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db

NEW = "copper meadow whistle 42 harbor"


@pytest.mark.parametrize("path", ["/admin/password_change/", "/admin/password_change/done/"])
def test_the_admins_password_pages_lead_to_the_panels_own(operator_client, path):
    response = operator_client.get(path)
    assert response.status_code == 302
    assert response["Location"] == "/settings/security/password/"


def test_posting_to_the_admins_password_change_changes_nothing(operator_client, operator, password):
    response = operator_client.post(
        "/admin/password_change/",
        {"old_password": password, "new_password1": NEW, "new_password2": NEW},
    )
    assert response.status_code == 302
    assert response["Location"] == "/settings/security/password/"
    operator.refresh_from_db()
    assert operator.check_password(password)


def test_guessing_through_the_admin_is_not_unlimited(operator_client):
    statuses = {
        operator_client.post(
            "/admin/password_change/",
            {"old_password": f"guess {n}", "new_password1": NEW, "new_password2": NEW},
        ).status_code
        for n in range(12)
    }
    assert statuses == {302}


def test_anonymous_visitors_still_go_to_the_sign_in(client):
    response = client.get("/admin/password_change/")
    assert response.status_code == 302
    assert response["Location"] == "/admin/login/?next=/admin/password_change/"
    onwards = client.get(response["Location"])
    assert onwards["Location"].startswith("/auth/login/?next=")
