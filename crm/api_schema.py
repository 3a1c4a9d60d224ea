"""The schema's shared parts: every operation documents the errors the API can answer
with, in one shape (`Error`), so clients and the fuzzer (tests/security/test_api_fuzz.py)
know them without each view repeating them. See docs/api.md."""

from __future__ import annotations

from drf_spectacular import openapi
from drf_spectacular.plumbing import ResolvedComponent

ERROR_SCHEMA = {
    "type": "object",
    "description": "What went wrong. `detail` says it in a sentence; a bad field or query "
    "parameter also appears under its own name with a list of messages.",
    "properties": {
        "detail": {"type": "string"},
        "errors": {"type": "array", "items": {"type": "string"}},
    },
    "additionalProperties": {
        "oneOf": [
            {"type": "array", "items": {}},
            {"type": "string"},
            {"type": "object"},
        ]
    },
}

WRITES = {"POST", "PUT", "PATCH", "DELETE"}
BODIES = {"POST", "PUT", "PATCH"}


class AutoSchema(openapi.AutoSchema):
    def _error_codes(self) -> dict[str, str]:
        view = self.view
        codes = {
            "400": "Bad input: a field, a cursor or a query parameter the endpoint does not "
            "take; the body names it.",
        }
        if view.authentication_classes:
            codes["401"] = "No credentials, or a wrong token (the answer carries WWW-Authenticate)."
        codes["403"] = "Signed in, but your role may not do this."
        codes["404"] = "No such object, or not one you may see (in the path or the body)."
        if self.method in WRITES:
            codes["409"] = "The change conflicts with the current state; the body says why."
        if self.method in BODIES:
            codes["415"] = "The body's Content-Type is not one the API reads (JSON, form data)."
        if view.throttle_classes:
            codes["429"] = "Too many attempts: wait for the seconds in Retry-After."
        elif getattr(view, "action", None) in getattr(view, "limited_actions", ()):
            # A limit a service keeps (customers.errors.TooMany), such as requests a day.
            codes["429"] = "Over a limit the body names: wait for the seconds in Retry-After."
        return codes

    def _get_response_bodies(self, direction="response"):
        responses = super()._get_response_bodies(direction)
        if direction != "response":
            return responses
        self.registry.register_on_missing(
            ResolvedComponent(
                name="Error", type=ResolvedComponent.SCHEMA, object="Error", schema=ERROR_SCHEMA
            )
        )
        ref = {"$ref": "#/components/schemas/Error"}
        for code, description in self._error_codes().items():
            if code in responses and "content" in responses[code]:
                continue  # the view documents this error itself
            # A view may say in its own words when it answers a code (extend_schema with
            # an OpenApiResponse of a description only); the shape is always Error.
            own = responses.get(code, {}).get("description")
            responses[code] = {
                "description": own or description,
                "content": {"application/json": {"schema": ref}},
            }
        return responses

    def _map_serializer_field(self, field, direction, bypass_extensions=False):
        schema = super()._map_serializer_field(field, direction, bypass_extensions)
        # A read-only field with `default=None` (a name read through a relation that may be
        # empty: `source="segment.name"`) answers null when there is none; say so.
        if field.read_only and field.default is None and "$ref" not in schema:
            schema["nullable"] = True
        return schema
