"""/api/v1/auth/...: sign-in (password, the 2FA challenge, the emailed new-device code),
token refresh and sign-out, and 2FA management. Thin: parse, the pipeline or the 2FA
services (the same as the pages), JSON."""

from __future__ import annotations

from django.contrib.auth.hashers import check_password
from django.core.exceptions import ImproperlyConfigured
from django_ratelimit.core import is_ratelimited
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.response import Response

from panel import ratelimits
from security.devices import services as devices
from security.exceptions import AlreadyEnabled, CodeRefused
from security.lockout import policy as lockout
from security.signin import pipeline
from security.signin.pending import get as pending_get
from security.twofactor import crypto, totp
from security.twofactor.forms import BackupCodeForm, DisableForm, TOTPCodeForm

from .. import signin, tokens
from ..exceptions import ApiRefusal
from ..permissions import AccessTokenOnly
from .base import ApiView, PublicApiView, StrictSerializer


def _limit(request, group: str, rate: str, *, per_user: bool = False) -> None:
    """The named rate, per client address (sign-in steps) or per account (the 2FA
    management endpoints, as their page twins)."""
    key = (lambda g, r: f"user:{request.user.pk}") if per_user else ratelimits.ip_key
    if is_ratelimited(request._request, group=group, key=key, rate=rate, increment=True):
        raise ApiRefusal("rate_limited", "Too many requests. Try again later.", status=429)


def _code(form_class, value) -> str:
    form = form_class({"code": value})
    if not form.is_valid():
        raise ApiRefusal("invalid_code", form.errors["code"][0])
    return form.cleaned_data["code"]


class LoginInput(StrictSerializer):
    login = serializers.CharField(max_length=254, help_text="Email address or username.")
    password = serializers.CharField(max_length=4096, trim_whitespace=False)
    deviceToken = serializers.CharField(
        max_length=500, required=False, help_text="From an earlier sign-in of this client."
    )


class TwoFactorInput(StrictSerializer):
    twoFactorToken = serializers.CharField(max_length=500)
    code = serializers.CharField(max_length=40, help_text="A TOTP code or a backup code.")


class DeviceInput(StrictSerializer):
    signinToken = serializers.CharField(max_length=500)
    deviceToken = serializers.CharField(max_length=500)
    code = serializers.CharField(max_length=20)


class RefreshInput(StrictSerializer):
    refreshToken = serializers.CharField(max_length=2000)


class PasswordInput(StrictSerializer):
    password = serializers.CharField(max_length=4096, trim_whitespace=False)


class CodeInput(StrictSerializer):
    code = serializers.CharField(max_length=40)


SIGNIN_ANSWER = inline_serializer(
    "SignInAnswer",
    {
        "accessToken": serializers.CharField(required=False),
        "refreshToken": serializers.CharField(required=False),
        "tokenType": serializers.CharField(required=False),
        "expiresIn": serializers.IntegerField(required=False),
        "refreshExpiresIn": serializers.IntegerField(required=False),
        "deviceToken": serializers.CharField(required=False),
        "needs2fa": serializers.BooleanField(required=False),
        "twoFactorToken": serializers.CharField(required=False),
        "needsDeviceCode": serializers.BooleanField(required=False),
        "signinToken": serializers.CharField(required=False),
        "message": serializers.CharField(required=False),
        "notices": serializers.ListField(child=serializers.CharField(), required=False),
    },
)
HELD_ANSWER = inline_serializer(
    "HeldSignIn",
    {
        "held": serializers.BooleanField(),
        "reasons": serializers.ListField(child=serializers.CharField()),
        "message": serializers.CharField(),
    },
)
TOKENS = inline_serializer(
    "TokenPair",
    {
        "accessToken": serializers.CharField(),
        "refreshToken": serializers.CharField(),
        "tokenType": serializers.CharField(),
        "expiresIn": serializers.IntegerField(),
        "refreshExpiresIn": serializers.IntegerField(),
    },
)


def _parse(serializer_class, request):
    data = serializer_class(data=request.data)
    data.is_valid(raise_exception=True)
    return data.validated_data


@extend_schema(
    summary="Sign in with a password",
    request=LoginInput,
    responses={200: SIGNIN_ANSWER, 202: HELD_ANSWER},
    auth=[],
)
class Login(PublicApiView):
    def post(self, request):
        _limit(request, "api-signin", ratelimits.API_SIGNIN_PER_IP)
        data = _parse(LoginInput, request)
        django_request = request._request
        with signin.detached_session(django_request, device_token=data.get("deviceToken")) as store:
            outcome = pipeline.sign_in_with_password(
                django_request, login=data["login"], password=data["password"]
            )
            status, body = signin.answer(
                django_request, store, outcome, device_token=signin.device_token_of(django_request)
            )
        return Response(body, status=status)


@extend_schema(
    summary="Complete a sign-in with a TOTP or backup code",
    request=TwoFactorInput,
    responses={200: SIGNIN_ANSWER, 202: HELD_ANSWER},
    auth=[],
)
class LoginTwoFactor(PublicApiView):
    def post(self, request):
        _limit(request, "api-2fa", ratelimits.API_SIGNIN_PER_IP)
        data = _parse(TwoFactorInput, request)
        key = signin.load_step(request._request, data["twoFactorToken"], "2fa")
        django_request = request._request
        with signin.detached_session(django_request, session_key=key) as store:
            state = pending_get(django_request)
            user = state.user() if state is not None and state.stage == "2fa" else None
            if user is None:
                store.delete()
                raise ApiRefusal(
                    "signin_expired", "This sign-in expired. Sign in again.", status=401
                )
            lock = lockout.status_for(django_request, user.get_username())
            if lock.locked:
                store.delete()
                return signin_locked(lock)
            raw = data["code"]
            digits = "".join(raw.split())
            method = "totp" if digits.isdigit() and len(digits) == 6 else "backup_code"
            code = _code(TOTPCodeForm if method == "totp" else BackupCodeForm, raw)
            result = totp.verify_second_factor(
                user=user, code=code, method=method, request=django_request
            )
            if not result.ok:
                if result.reason != "unreadable":
                    lock = pipeline.second_factor_failed(
                        django_request, user, method=method, reason=result.reason
                    )
                    if lock.locked:
                        store.delete()
                        return signin_locked(lock)
                store.save()
                raise ApiRefusal("invalid_code", result.message, status=400)
            outcome = pipeline.after_factors(
                django_request, user, method=method, next_url=None, device=result.device
            )
            status, body = signin.answer(
                django_request, store, outcome, device_token=signin.device_token_of(django_request)
            )
        return Response(body, status=status)


def signin_locked(lock):
    seconds = getattr(lock, "seconds", None)
    raise ApiRefusal(
        "locked",
        "Too many failed attempts. Try again later." + (f" ({seconds} seconds)" if seconds else ""),
        status=429,
    )


@extend_schema(
    summary="Complete a sign-in from a new client with the emailed code",
    request=DeviceInput,
    responses={200: SIGNIN_ANSWER},
    auth=[],
)
class LoginDevice(PublicApiView):
    def post(self, request):
        _limit(request, "api-device", ratelimits.API_SIGNIN_PER_IP)
        data = _parse(DeviceInput, request)
        django_request = request._request
        key = signin.load_step(django_request, data["signinToken"], "device")
        with signin.detached_session(
            django_request, session_key=key, device_token=data["deviceToken"]
        ) as store:
            state = pending_get(django_request)
            user = state.user() if state is not None and state.stage == "device" else None
            challenge = devices.challenge_for(django_request, user) if user is not None else None
            if challenge is None:
                store.delete()
                raise ApiRefusal(
                    "signin_expired", "This sign-in expired. Sign in again.", status=401
                )
            lock = lockout.status_for(django_request, user.get_username())
            if lock.locked:
                store.delete()
                return signin_locked(lock)
            token = devices.current_token(django_request)
            digits = "".join(str(data["code"]).split())
            valid = len(digits) == devices.CODE_DIGITS and digits.isascii() and digits.isdigit()
            result = devices.verify_code(
                request=django_request,
                challenge=challenge,
                code=digits if valid else "",
                token=token,
            )
            if result == devices.CodeResult.OK:
                otp_device = devices.challenge_otp_device(django_request)
                devices.clear_challenge(django_request)
                devices.trust(request=django_request, user=user, token=token, via="emailed_code")
                outcome = pipeline.resume(
                    django_request,
                    user,
                    method=state.method,
                    next_url=None,
                    otp_device=otp_device,
                )
                status, body = signin.answer(
                    django_request,
                    store,
                    outcome,
                    device_token=signin.device_token_of(django_request),
                )
                return Response(body, status=status)
            if result != devices.CodeResult.EXPIRED:
                lock = lockout.record_failure(django_request, login=user.get_username())
                if lock.locked:
                    store.delete()
                    return signin_locked(lock)
            if result == devices.CodeResult.EXHAUSTED:
                store.delete()
                raise ApiRefusal(
                    "signin_expired", "Too many wrong codes. Please sign in again.", status=401
                )
            store.save()
            if result == devices.CodeResult.EXPIRED:
                raise ApiRefusal(
                    "code_expired", "This code has expired. Sign in again.", status=400
                )
            raise ApiRefusal("invalid_code", "That code is not right.", status=400)


@extend_schema(
    summary="Rotate the refresh token (a reused one revokes every token of its sign-in)",
    request=RefreshInput,
    responses={200: TOKENS},
    auth=[],
)
class TokenRefresh(PublicApiView):
    def post(self, request):
        _limit(request, "api-refresh", ratelimits.API_REFRESH_PER_IP)
        data = _parse(RefreshInput, request)
        pair = tokens.refresh(raw=data["refreshToken"], request=request._request)
        return Response(pair.as_json())


@extend_schema(summary="Sign out: end this sign-in's tokens", request=None, responses={204: None})
class Logout(ApiView):
    permission_classes = [AccessTokenOnly]

    def post(self, request):
        tokens.sign_out(session=request.auth.session, request=request)
        return Response(status=204)


# --- 2FA management -----------------------------------------------------------------------


def _refused_code(request, exc: CodeRefused, *, page: str):
    if exc.reason != "unreadable":
        lock = lockout.reauth_failed(request, page=page, factor=exc.method, reason=exc.reason)
        if lock.locked:
            signin_locked(lock)
    raise ApiRefusal("invalid_code", exc.message)


def _guard(request) -> None:
    """The pair's lock, before any password or code is checked (``@lockout_guarded``)."""
    lock = lockout.status_for(request, request.user.get_username())
    if lock.locked:
        signin_locked(lock)


@extend_schema(
    summary="Start 2FA enrollment (current password): the secret and the otpauth URI",
    request=PasswordInput,
    responses={
        200: inline_serializer(
            "TwoFactorSetup",
            {"secret": serializers.CharField(), "otpauthUri": serializers.CharField()},
        )
    },
)
class TwoFactorSetup(ApiView):
    permission_classes = [AccessTokenOnly]

    def post(self, request):
        _limit(request, "api-2fa-setup", ratelimits.TWO_FACTOR_ENABLE_PER_USER, per_user=True)
        data = _parse(PasswordInput, request)
        user = request.user
        _guard(request)
        if not (user.has_usable_password() and check_password(data["password"], user.password)):
            lock = lockout.reauth_failed(
                request, page="2fa_enable", factor="password", reason="invalid"
            )
            if lock.locked:
                signin_locked(lock)
            raise ApiRefusal("invalid_password", "That password is not right.", status=400)
        try:
            device = totp.totp_start(user=user, request=request)
        except AlreadyEnabled as exc:
            raise ApiRefusal("already_enabled", exc.message, status=409) from None
        except ImproperlyConfigured:
            raise ApiRefusal(
                "unavailable", "Two-factor authentication is not available.", status=503
            ) from None
        try:
            key = device.bin_key
        except crypto.SecretUnreadable:
            raise ApiRefusal("unavailable", totp.UNREADABLE_MESSAGE, status=503) from None
        return Response(
            {
                "secret": totp.base32_secret(key),
                "otpauthUri": totp.otpauth_uri(key=key, account=user.email or user.get_username()),
            }
        )


@extend_schema(
    summary="Confirm enrollment with a TOTP code: 2FA is on; answers the backup codes",
    request=CodeInput,
    responses={
        200: inline_serializer(
            "BackupCodes", {"backupCodes": serializers.ListField(child=serializers.CharField())}
        )
    },
)
class TwoFactorVerifyEnrollment(ApiView):
    permission_classes = [AccessTokenOnly]

    def post(self, request):
        _limit(request, "api-2fa-manage", ratelimits.TWO_FACTOR_SETUP_PER_USER, per_user=True)
        data = _parse(CodeInput, request)
        _guard(request)
        code = _code(TOTPCodeForm, data["code"])
        if totp.has_totp(request.user):
            raise ApiRefusal(
                "already_enabled", "Two-factor authentication is already on.", status=409
            )
        # Turning 2FA on ends every session signed in with the password alone, this API
        # sign-in included (the pages keep the browser that typed the code; an API client
        # signs in again, now with a code). The detached session keeps the service's
        # session writes away from any cookie.
        with signin.detached_session(request._request):
            try:
                codes = totp.totp_confirm(user=request.user, code=code, request=request._request)
            except CodeRefused as exc:
                _refused_code(request, exc, page="2fa_setup")
        return Response({"backupCodes": codes})


def _code_with_2fa_on(request, form_class) -> str:
    """The opening of the 2FA-management calls that need 2FA on (disable, regenerate):
    the per-user limit, the body, the guard, 409 when 2FA is off, then the code as
    ``form_class`` accepts it."""
    _limit(request, "api-2fa-manage", ratelimits.TWO_FACTOR_MANAGE_PER_USER, per_user=True)
    data = _parse(CodeInput, request)
    _guard(request)
    if not totp.has_totp(request.user):
        raise ApiRefusal("not_enabled", "Two-factor authentication is not on.", status=409)
    return _code(form_class, data["code"])


@extend_schema(
    summary="Turn 2FA off (a TOTP code or a backup code)",
    request=CodeInput,
    responses={204: None},
)
class TwoFactorDisable(ApiView):
    permission_classes = [AccessTokenOnly]

    def post(self, request):
        code = _code_with_2fa_on(request, DisableForm)
        try:
            totp.totp_disable(user=request.user, code=code, request=request)
        except CodeRefused as exc:
            _refused_code(request, exc, page="2fa_disable")
        return Response(status=204)


@extend_schema(
    summary="New backup codes (a TOTP code only; backup codes are refused)",
    request=CodeInput,
    responses={
        200: inline_serializer(
            "NewBackupCodes", {"backupCodes": serializers.ListField(child=serializers.CharField())}
        )
    },
)
class TwoFactorRegenerate(ApiView):
    permission_classes = [AccessTokenOnly]

    def post(self, request):
        code = _code_with_2fa_on(request, TOTPCodeForm)
        try:
            codes = totp.backup_codes_regenerate(user=request.user, totp_code=code, request=request)
        except CodeRefused as exc:
            _refused_code(request, exc, page="2fa_regenerate")
        return Response({"backupCodes": codes})
