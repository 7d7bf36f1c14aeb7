"""The API's typed refusal: a code, a message and a status, answered as the error body."""

from __future__ import annotations

from rest_framework.exceptions import APIException


class ApiRefusal(APIException):
    status_code = 400
    default_code = "bad_request"

    def __init__(self, code: str, message: str, *, status: int = 400) -> None:
        super().__init__(detail=message, code=code)
        self.status_code = status
        self.error_code = code
