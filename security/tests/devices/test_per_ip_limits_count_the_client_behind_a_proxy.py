"""Security review: behind trusted proxies every per-IP limit counts the client's address
(panel.net.client_ip), not the proxy's.

The new-device "send a new code" limit used django-ratelimit's ``"ip"`` key, which reads
REMOTE_ADDR: behind a proxy every visitor shared one budget of 10 resends per 10 minutes
for the whole site, so a single client could stop everyone else from getting a code.
"""

from __future__ import annotations

import pytest

from security.tests.helpers import SAFARI_IPHONE, browser, code_from, sign_in

pytestmark = pytest.mark.usefixtures("emails_sent_at_once")

PROXY = "10.0.0.1"
DEVICE_URL = "/auth/device/"
RESEND_URL = "/auth/device/resend/"


@pytest.fixture(autouse=True)
def _behind_one_proxy(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    settings.SUSPICIOUS_SIGNIN_CHECKS = False
    settings.NEW_DEVICE_APPROVAL = True


def _via_proxy(client_ip: str, ua: str | None = None):
    client = browser(PROXY, ua) if ua else browser(PROXY)
    client.defaults["HTTP_X_FORWARDED_FOR"] = client_ip
    return client


def _waiting_for_a_code(user, password, client_ip: str):
    laptop = _via_proxy(client_ip)
    assert sign_in(laptop, user, password)["Location"] == "/dashboard/"  # first browser
    phone = _via_proxy(client_ip, SAFARI_IPHONE)
    assert sign_in(phone, user, password)["Location"] == DEVICE_URL
    return phone


def test_one_clients_resends_do_not_use_up_other_clients_budget(user_factory, password, mailoutbox):
    phones = [
        _waiting_for_a_code(user_factory(f"user{n}"), password, f"198.51.100.{n}")
        for n in range(1, 5)
    ]
    # Three resends each (the per-sign-in limit), twelve in all, from four addresses.
    answers = [
        phone.post(RESEND_URL, follow=True).content.decode() for phone in phones for _ in range(3)
    ]
    assert all("We sent a new code." in answer for answer in answers)
    # The last phone's newest code works.
    assert phones[-1].post(DEVICE_URL, {"code": code_from(mailoutbox)})["Location"] == (
        "/dashboard/"
    )
