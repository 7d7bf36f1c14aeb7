"""Every signed-in form, and the public forms test_headers_and_fuzz.py does not cover,
against nasty input: a fixed list of strings (no randomness), each put into one field
among sensible values and then into every field at once; repeated keys for scalar
fields; missing fields; NUL bytes (urlencoded: a 400 before any view; multipart: the
form refuses them).

For every answer: no 500; a 4xx says what went wrong (an alert on the form or the error
page); nothing typed comes back unescaped; and the state the form guards (the password,
2FA on or off, the backup codes, the step-up, being signed in, a trusted device) changes
only on an answer that says it succeeded.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.contrib.auth import SESSION_KEY
from django.core.cache import cache

from security.tests.helpers import FIREFOX_WINDOWS, enroll, start_two_factor

from .access import DEVICE, LOGIN, browser, says_what_went_wrong, sign_in, step_up
from .test_headers_and_fuzz import NASTY

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "amber quartz lantern 58 orchard"

MORE_NASTY = [
    "\x07\x1b[31m\x08\x7f",
    "\u200b\u200d\ufeff",
    "<svg/onload=alert(1)>",
    "javascript:alert(1)",
    "//evil.example/",
    "１２３４５６",  # fullwidth digits: isdigit() is true, isascii() is not
    "١٢٣٤٥٦",  # Arabic-Indic digits
    "000000",  # the right shape, the wrong code
    "123 456\n",
    "aaaa-bbbb-cccc-dddd",  # the shape of a backup code
    "x" * 129,
    "\U0001f600" * 64 + "\u0301" * 64,
]
VALUES = NASTY + MORE_NASTY
# What must never come back as markup.
RAW = ["<script>alert(1)</script>", "<img src=x onerror", "<svg/onload"]


@pytest.fixture(autouse=True)
def _no_limits(settings):
    # Rate limits and lockout would answer 429 before the forms see the input (they have
    # tests of their own); scrypt at full cost is not what this tests.
    settings.RATELIMIT_ENABLE = False
    settings.AXES_ENABLED = False
    settings.BACKUP_CODE_SCRYPT_N = 2**8
    settings.OTP_THROTTLE_FACTOR = 0
    cache.clear()
    yield
    cache.clear()


# --- Targets ------------------------------------------------------------------------------


@dataclass
class Ctx:
    user_factory: Callable
    password: str
    client: Any = None
    user: Any = None
    enrolled: Any = None
    path: str = ""
    extra: dict = field(default_factory=dict)
    n: int = 0

    def new_user(self, prefix: str, **kwargs):
        self.n += 1
        return self.user_factory(f"{prefix}{self.n}", **kwargs)


@dataclass
class Target:
    path: str
    fields: dict[str, str]  # field -> a sensible value (a callable gets the Ctx)
    prepare: Callable[[Ctx], None]
    state: Callable[[Ctx], Any]  # what the form guards
    succeeded: Callable[[Any], bool]  # the answer to a successful submission
    # Where the browser is sent when its half-finished sign-in is gone.
    lost: str | None = None

    def data(self, ctx: Ctx) -> dict:
        return {k: (v(ctx) if callable(v) else v) for k, v in self.fields.items()}


def _signed_in(ctx: Ctx, *, with_2fa: bool = False) -> None:
    ctx.user = ctx.new_user("fuzz")
    ctx.enrolled = enroll(ctx.user) if with_2fa else None
    ctx.client = browser(f"203.0.113.{ctx.n % 200 + 20}")
    sign_in(ctx.client, ctx.user, ctx.password, ctx.enrolled)


def _is_signed_in(ctx: Ctx) -> bool:
    return SESSION_KEY in ctx.client.session


def _password_hash(ctx: Ctx) -> str:
    ctx.user.refresh_from_db()
    return ctx.user.password


def _factors(ctx: Ctx) -> tuple:
    from security.models import BackupCode, EncryptedTOTPDevice

    devices = tuple(
        EncryptedTOTPDevice.objects.filter(user=ctx.user).values_list("pk", "confirmed")
    )
    codes = tuple(
        BackupCode.objects.filter(code_set__user=ctx.user)
        .order_by("pk")
        .values_list("digest", "used_at")
    )
    return devices, codes


def _redirect_to(location: str) -> Callable[[Any], bool]:
    return lambda r: r.status_code == 302 and r["Location"] == location


def _codes_page(response) -> bool:
    return response.status_code == 200 and b"These codes are shown only once" in response.content


def prep_password_change(ctx: Ctx) -> None:
    _signed_in(ctx)


def prep_enable(ctx: Ctx) -> None:
    _signed_in(ctx)


def prep_setup(ctx: Ctx) -> None:
    _signed_in(ctx)
    response = ctx.client.post("/settings/security/2fa/enable/", {"password": ctx.password})
    assert response["Location"] == "/settings/security/2fa/setup/"


def prep_2fa_settings(ctx: Ctx) -> None:
    _signed_in(ctx, with_2fa=True)


def prep_pending_2fa(ctx: Ctx) -> None:
    ctx.user = ctx.new_user("fuzz")
    ctx.enrolled = enroll(ctx.user)
    ctx.client = browser(f"203.0.113.{ctx.n % 200 + 20}")
    start_two_factor(ctx.client, ctx.user, ctx.password)


def prep_pending_device(ctx: Ctx) -> None:
    ctx.user = ctx.new_user("fuzz")
    sign_in(browser("198.51.100.200"), ctx.user, ctx.password)  # the first, trusted browser
    ctx.client = browser(f"203.0.113.{ctx.n % 200 + 20}", FIREFOX_WINDOWS)
    response = ctx.client.post(LOGIN, {"username": ctx.user.username, "password": ctx.password})
    assert response["Location"] == DEVICE


def prep_reset(ctx: Ctx) -> None:
    from django.contrib.auth.tokens import default_token_generator

    from accounts.tokens import uid_for

    ctx.user = ctx.new_user("fuzz")
    ctx.client = browser(f"203.0.113.{ctx.n % 200 + 20}")
    link = (
        f"/auth/password/reset/{uid_for(ctx.user)}/{default_token_generator.make_token(ctx.user)}/"
    )
    ctx.extra["form"] = ctx.client.get(link)["Location"]


def _device_state(ctx: Ctx) -> tuple:
    from security.models import TrustedDevice

    return _is_signed_in(ctx), TrustedDevice.objects.filter(user=ctx.user).count()


TARGETS: dict[str, Target] = {
    "password change": Target(
        "/settings/security/password/",
        {
            "old_password": lambda ctx: ctx.password,
            "new_password1": NEW_PASSWORD,
            "new_password2": NEW_PASSWORD,
        },
        prep_password_change,
        lambda ctx: (_password_hash(ctx), _is_signed_in(ctx)),
        _redirect_to("/settings/security/"),
    ),
    "2FA enable, password step": Target(
        "/settings/security/2fa/enable/",
        {"password": lambda ctx: ctx.password},
        prep_enable,
        _factors,
        _redirect_to("/settings/security/2fa/setup/"),
    ),
    "2FA enable, confirm code": Target(
        "/settings/security/2fa/setup/",
        {"code": "000000"},
        prep_setup,
        _factors,
        _codes_page,
    ),
    "2FA disable": Target(
        "/settings/security/2fa/disable/",
        {"code": "000000"},
        prep_2fa_settings,
        _factors,
        _redirect_to("/settings/security/"),
    ),
    "backup codes regenerate": Target(
        "/settings/security/2fa/backup-codes/",
        {"code": "000000"},
        prep_2fa_settings,
        _factors,
        _codes_page,
    ),
    "sessions step-up, password": Target(
        "/settings/sessions/confirm/",
        {"password": "not the password", "next": "/settings/sessions/"},
        prep_2fa_settings,
        lambda ctx: "_stepup_at" in ctx.client.session,
        lambda r: r.status_code == 302,
    ),
    "sessions step-up, code": Target(
        "/settings/sessions/confirm/?factor=code",
        {"code": "000000", "factor": "code", "next": "/settings/sessions/"},
        prep_2fa_settings,
        lambda ctx: "_stepup_at" in ctx.client.session,
        lambda r: r.status_code == 302,
    ),
    "2FA step of sign-in": Target(
        "/auth/2fa/",
        {"code": "000000", "method": "totp"},
        prep_pending_2fa,
        lambda ctx: (_is_signed_in(ctx), _factors(ctx)),
        _redirect_to("/dashboard/"),
        lost=LOGIN,
    ),
    "2FA step of sign-in, backup code": Target(
        "/auth/2fa/?method=backup",
        {"code": "aaaa-bbbb-cccc-dddd", "method": "backup"},
        prep_pending_2fa,
        lambda ctx: (_is_signed_in(ctx), _factors(ctx)),
        _redirect_to("/dashboard/"),
        lost=LOGIN,
    ),
    "new-device code": Target(
        "/auth/device/",
        {"code": "000000"},
        prep_pending_device,
        _device_state,
        _redirect_to("/dashboard/"),
        lost=LOGIN,
    ),
    "password reset, new password": Target(
        "reset-form",
        {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
        prep_reset,
        _password_hash,
        _redirect_to(LOGIN),
        lost="",
    ),
}


# --- Checking an answer -------------------------------------------------------------------


def assert_sound(response, where: str) -> None:
    assert response.status_code < 500, where
    body = response.content.decode(errors="replace")
    for raw in RAW:
        assert raw not in body, f"{where}: {raw!r} reflected unescaped"
    if 400 <= response.status_code < 500:
        assert says_what_went_wrong(body), f"{where}: a {response.status_code} without a message"


class Fuzzer:
    def __init__(self, target: Target, ctx: Ctx) -> None:
        self.target, self.ctx = target, ctx
        self.successes = 0
        self.reset()

    def reset(self) -> None:
        self.target.prepare(self.ctx)
        self.before = self.target.state(self.ctx)

    @property
    def path(self) -> str:
        if self.target.path == "reset-form":
            return self.ctx.extra["form"]
        return self.target.path

    def post(self, data, where: str, **kwargs):
        response = self.ctx.client.post(self.path, data, **kwargs)
        assert_sound(response, where)
        after = self.target.state(self.ctx)
        if self.target.succeeded(response):
            self.successes += 1
            self.reset()
        elif after != self.before:
            raise AssertionError(f"{where}: state changed on a refused submission")
        elif self.target.lost is not None and response.status_code == 302:
            # The half-finished sign-in (or the reset link) is gone: start again.
            self.reset()
        return response


@pytest.mark.parametrize("name", list(TARGETS))
def test_forms_refuse_nasty_input_cleanly(name, user_factory, password):
    target = TARGETS[name]
    fuzzer = Fuzzer(target, Ctx(user_factory, password))
    names = list(target.fields)
    answered = 0
    for value in VALUES:
        for field_name in [*names, None]:
            data = target.data(fuzzer.ctx)
            if field_name is None:
                data = dict.fromkeys(names, value)
            else:
                data[field_name] = value
            response = fuzzer.post(data, f"{name}: {field_name}={value[:30]!r}")
            answered += response.status_code in (200, 400) and b'role="alert"' in response.content
    assert answered, f"{name}: the form never answered with an error"


@pytest.mark.parametrize("name", list(TARGETS))
def test_forms_take_repeated_keys_and_missing_fields_without_a_500(name, user_factory, password):
    target = TARGETS[name]
    fuzzer = Fuzzer(target, Ctx(user_factory, password))
    names = list(target.fields)
    sensible = target.data(fuzzer.ctx)
    # A list where one value is expected: the last one wins, or the form refuses it.
    for field_name in names:
        data = target.data(fuzzer.ctx)
        data[field_name] = ["<script>alert(1)</script>", sensible[field_name], "x" * 5000]
        fuzzer.post(data, f"{name}: {field_name} repeated")
    # Every subset of the fields missing (the empty body included).
    for field_name in names:
        data = {k: v for k, v in target.data(fuzzer.ctx).items() if k != field_name}
        fuzzer.post(data, f"{name}: without {field_name}")
    fuzzer.post({}, f"{name}: empty body")
    # Fields the form does not have are ignored.
    fuzzer.post(
        {**target.data(fuzzer.ctx), "is_superuser": "1", "user_id": "1", "<b>": "<b>"},
        f"{name}: extra fields",
    )


@pytest.mark.parametrize("name", list(TARGETS))
def test_a_nul_byte_is_refused_with_a_400_and_changes_nothing(name, user_factory, password):
    target = TARGETS[name]
    fuzzer = Fuzzer(target, Ctx(user_factory, password))
    for field_name in target.fields:
        data = target.data(fuzzer.ctx)
        data[field_name] = "12\x0034" if field_name != "next" else "/settings/\x00sessions/"
        # As a browser sends a form: urlencoded. The request never reaches the view.
        body = "&".join(f"{k}={v}" for k, v in data.items()).replace("\x00", "%00")
        response = fuzzer.post(
            body.encode(),
            f"{name}: NUL in {field_name}",
            content_type="application/x-www-form-urlencoded",
        )
        assert response.status_code == 400, (name, field_name)
        assert "characters that are not allowed" in response.content.decode()
        # Multipart: the form itself refuses NUL (Django's ProhibitNullCharactersValidator)
        # or the field is ignored; never a 500 (PostgreSQL refuses NUL in text).
        fuzzer.post(data, f"{name}: NUL in {field_name} (multipart)")


# --- Forms without fields, and the public ones with special input ------------------------


def test_the_step_up_never_redirects_off_site_and_escapes_next(user_factory, password):
    ctx = Ctx(user_factory, password)
    prep_2fa_settings(ctx)
    for bad in [
        "//evil.example/",
        "https://evil.example/",
        "javascript:alert(1)",
        "/\\evil.example",
        "\\\\evil.example",
        "http:/evil.example",
        " //evil.example",
    ]:
        response = ctx.client.post(
            "/settings/sessions/confirm/", {"password": password, "next": bad}
        )
        assert response.status_code == 302, bad
        assert response["Location"] == "/settings/sessions/", bad
    page = ctx.client.get("/settings/sessions/confirm/", {"next": "/<script>alert(1)</script>"})
    body = page.content.decode()
    assert "<script>alert(1)</script>" not in body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in body


def test_the_2fa_step_takes_any_method_and_keeps_the_sign_in_pending(user_factory, password):
    ctx = Ctx(user_factory, password)
    prep_pending_2fa(ctx)
    for method in ["", "sms", "backup\x00", "<script>alert(1)</script>", "TOTP", "x" * 5000]:
        for response in (
            ctx.client.get("/auth/2fa/", {"method": method}),
            ctx.client.post("/auth/2fa/", {"method": method, "code": "12"}),
        ):
            assert_sound(response, f"method={method[:20]!r}")
            # NUL in the address is refused before the view (400); a POST of a malformed
            # code is a refused form (400); a GET shows the form.
            expected = (
                400 if "\x00" in method or response.request["REQUEST_METHOD"] == "POST" else 200
            )
            assert response.status_code == expected, method
    assert not _is_signed_in(ctx)
    # The right code still works afterwards.
    response = ctx.client.post("/auth/2fa/", {"method": "totp", "code": ctx.enrolled.code()})
    assert response["Location"] == "/dashboard/"


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"null",
        b"[]",
        b'"password"',
        b"{",
        b'{"password": null}',
        b'{"password": 12345678901234567890}',
        b'{"password": ["a", "b"]}',
        b'{"password": {"$gt": ""}}',
        b'{"password": "a\\u0000b"}',
        b'{"password": "\\ud800"}',
        b'{"password": "<script>alert(1)</script>", "email": "<img src=x onerror=1>"}',
        b'{"password": "correct horse", "email": ["x"], "full_name": {"a": 1}}',
        json.dumps({"password": "\U0001f600" * 500}).encode(),
        json.dumps({"password": "x" * 7000}).encode(),
        b"\xff\xfe{}",
        b'{"password": "p", "password": "q"}',
    ],
)
def test_the_strength_endpoint_answers_nasty_json_with_json(body, client):
    cache.clear()
    response = client.post("/auth/password-strength/", body, content_type="application/json")
    assert response.status_code in (200, 400, 413), response
    data = response.json()
    assert isinstance(data, dict)
    text = response.content.decode()
    assert "<script>" not in text and "<img" not in text
    if response.status_code == 200:
        assert data["label"] in ("", "weak", "medium", "strong")


@pytest.mark.parametrize(
    "path",
    [
        "/settings/sessions/{other}/revoke/",
        "/settings/sessions/revoke-others/",
        "/settings/devices/{device}/forget/",
        "/settings/sessions/held/{held}/approve/",
    ],
)
def test_actions_without_fields_ignore_junk_and_do_their_one_thing(path, user_factory, password):
    from .access import _other_rows

    ctx = Ctx(user_factory, password)
    prep_2fa_settings(ctx)
    step_up(ctx.client, password)
    other, device, held = _other_rows(ctx.user)
    url = path.format(other=other.pk, device=device.pk, held=held.pk)
    junk = {v[:50] or "empty": v for v in VALUES[:12]}
    junk["pk"] = ["1", "2"]
    response = ctx.client.post(url + "?pk=1&next=//evil.example/", junk)
    assert_sound(response, url)
    assert response.status_code == 302
    assert response["Location"].startswith("/settings/"), response["Location"]
    # Done once: the same request again finds nothing left to do (404) or says so.
    again = ctx.client.post(url, junk)
    assert_sound(again, url)
    assert again.status_code in (302, 404)


def test_malformed_device_codes_use_up_the_attempts_like_wrong_ones(user_factory, password):
    from security.devices.services import MAX_CODE_ATTEMPTS

    ctx = Ctx(user_factory, password)
    prep_pending_device(ctx)
    for _ in range(MAX_CODE_ATTEMPTS - 1):
        response = ctx.client.post(DEVICE, {"code": "12"})
        assert response.status_code == 400
    # The last allowed attempt ends the challenge: sign in again (and get a new code).
    response = ctx.client.post(DEVICE, {"code": "<script>"})
    assert response.status_code == 302 and response["Location"] == LOGIN
    assert ctx.client.get(DEVICE)["Location"] == LOGIN
    assert not _is_signed_in(ctx)


def _button_form(name: str, ctx: Ctx) -> str:
    """Put a visitor where the public button-only form ``name`` is, and return its path."""
    from accounts.tokens import make_verification_token
    from security.sessions.services import report_token
    from security.suspicious import services as suspicious

    from .access import _other_rows

    if name == "verify_confirm":
        ctx.user = ctx.new_user("fuzz", verified=False)
        ctx.client = browser("203.0.113.40")
        ctx.client.get(f"/auth/verify/{make_verification_token(ctx.user)}/")
        return "/auth/verify/confirm/"
    if name == "device_code_resend":
        prep_pending_device(ctx)
        return "/auth/device/resend/"
    ctx.user = ctx.new_user("fuzz")
    ctx.client = browser("203.0.113.41")
    other, _device, held = _other_rows(ctx.user)
    if name == "signin_review":
        return f"/auth/review/{suspicious.decision_token(held, 'approve')}/"
    if name == "not_me":
        return f"/auth/not-me/{report_token(other)}/"
    return "/auth/logout/"


@pytest.mark.parametrize(
    "name", ["verify_confirm", "device_code_resend", "signin_review", "not_me", "logout"]
)
def test_public_button_forms_ignore_junk_fields(name, user_factory, password):
    ctx = Ctx(user_factory, password)
    path = _button_form(name, ctx)
    junk = {"<script>alert(1)</script>": "<script>alert(1)</script>", "x": ["1", "\u202e"]}
    junk |= {f"f{n}": v for n, v in enumerate(VALUES[:20])}
    response = ctx.client.post(path, junk)
    assert_sound(response, name)
    assert response.status_code in (200, 302), (name, response)
    again = ctx.client.post(path, junk)  # a second press: used link, ended sign-in
    assert_sound(again, name)


@pytest.mark.parametrize(
    ("method", "path", "says"),
    [
        ("get", "/auth/logout/", "use the button"),
        ("get", "/auth/password-strength/", "use the button"),
        ("post", "/auth/signup/done/", "cannot take a form submission"),
    ],
)
def test_a_405_says_what_to_do_and_keeps_the_allow_header(method, path, says, client):
    response = getattr(client, method)(path)
    assert response.status_code == 405
    assert response["Allow"]
    body = response.content.decode()
    assert says in body
    assert "Content-Security-Policy" in response
