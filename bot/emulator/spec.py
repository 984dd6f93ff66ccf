"""The official Bot API method list (``api.json``) and request parameter decoding.

aiogram sends every parameter as a form field: strings as-is, everything else JSON-encoded
(``"123"``, ``"true"``, ``'{"inline_keyboard": ...}'``), files as multipart parts referenced
with ``attach://<name>``.  ``decode_params`` turns such fields back into Python values using
the declared field types of the method.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .state import JSON, Upload, bad_request

SHARED_SPEC = Path(__file__).resolve().parents[3] / "shared" / "telegram" / "api.json"
SNAPSHOT_SPEC = Path(__file__).with_name("api_methods.json")


def _default_spec_path() -> Path:
    """The official list beside the checkout when present, else our snapshot of its methods
    (a test keeps the two equal wherever both exist)."""
    override = os.environ.get("FAKE_TELEGRAM_API_SPEC")
    if override:
        return Path(override)
    return SHARED_SPEC if SHARED_SPEC.is_file() else SNAPSHOT_SPEC


DEFAULT_SPEC_PATH = _default_spec_path()


@dataclass(frozen=True)
class FieldSpec:
    name: str
    types: tuple[str, ...]
    required: bool


@dataclass(frozen=True)
class MethodSpec:
    name: str
    fields: dict[str, FieldSpec]
    returns: tuple[str, ...]

    @property
    def required(self) -> list[str]:
        return [f.name for f in self.fields.values() if f.required]


class ApiSpec:
    """Methods of the official Bot API, looked up case-insensitively (like Telegram)."""

    def __init__(self, version: str, methods: dict[str, MethodSpec]) -> None:
        self.version = version
        self.methods = methods
        self._by_lower = {name.lower(): spec for name, spec in methods.items()}

    @classmethod
    def load(cls, path: str | Path | None = None) -> ApiSpec:
        spec_path = Path(path) if path is not None else DEFAULT_SPEC_PATH
        if not spec_path.is_file():
            raise FileNotFoundError(
                f"Bot API spec not found at {spec_path}; set FAKE_TELEGRAM_API_SPEC or pass "
                "spec_path= to FakeTelegram"
            )
        raw = json.loads(spec_path.read_text(encoding="utf-8"))
        methods: dict[str, MethodSpec] = {}
        for name, body in raw["methods"].items():
            fields = {
                f["name"]: FieldSpec(f["name"], tuple(f.get("types", [])), bool(f.get("required")))
                for f in body.get("fields", [])
            }
            methods[name] = MethodSpec(name, fields, tuple(body.get("returns", [])))
        return cls(str(raw.get("version", "")), methods)

    def resolve(self, method: str) -> MethodSpec | None:
        return self._by_lower.get(method.lower())


# Parameters that aiogram may still send although the current spec no longer lists them.
_LEGACY_TYPES: dict[str, tuple[str, ...]] = {
    "reply_to_message_id": ("Integer",),
    "allow_sending_without_reply": ("Boolean",),
    "disable_web_page_preview": ("Boolean",),
}

_JSON_ERRORS = {
    "reply_markup": "can't parse reply keyboard markup JSON object",
    "entities": "can't parse entities JSON object",
    "caption_entities": "can't parse entities JSON object",
    "media": "can't parse media JSON object",
    "commands": "can't parse commands JSON object",
    "allowed_updates": "can't parse allowed updates JSON object",
    "reply_parameters": "can't parse reply parameters JSON object",
}


def _coerce_scalar(name: str, value: str, types: tuple[str, ...]) -> Any:
    if "Integer" in types:
        text = value.strip()
        try:
            return int(text)
        except ValueError:
            if "String" in types:
                return value
            raise bad_request(f'invalid parameter "{name}": Integer expected') from None
    if "Float" in types or "Float number" in types:
        try:
            return float(value)
        except ValueError:
            raise bad_request(f'invalid parameter "{name}": Float expected') from None
    if "Boolean" in types:
        lowered = value.strip().lower()
        if lowered in {"true", "1"}:
            return True
        if lowered in {"false", "0", ""}:
            return False
        raise bad_request(f'invalid parameter "{name}": Boolean expected')
    if "String" in types or "InputFile" in types:
        return value
    # arrays and objects arrive JSON-encoded
    try:
        return json.loads(value)
    except ValueError:
        raise bad_request(_JSON_ERRORS.get(name, f'can\'t parse "{name}" JSON object')) from None


def _guess(value: str) -> Any:
    stripped = value.strip()
    if stripped[:1] in {"{", "["}:
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def decode_params(spec: MethodSpec, raw: dict[str, Any], uploads: dict[str, Upload]) -> JSON:
    """Decode wire values into Python values and resolve ``attach://`` file references.

    Fields of type InputFile become an ``Upload`` when they refer to (or are) a multipart
    file; other ``attach://`` references (inside media JSON) are resolved by the handlers.
    """
    params: JSON = {}
    for name, value in raw.items():
        field_spec = spec.fields.get(name)
        types = field_spec.types if field_spec else _LEGACY_TYPES.get(name, ())
        if isinstance(value, str):
            if "InputFile" in types and value.startswith("attach://"):
                key = value[len("attach://") :]
                if key not in uploads:
                    raise bad_request(f'file "{key}" is not attached to the request')
                params[name] = uploads[key]
                continue
            params[name] = _coerce_scalar(name, value, types) if types else _guess(value)
        else:
            params[name] = value
    for name, upload in uploads.items():
        field_spec = spec.fields.get(name)
        if field_spec is not None and "InputFile" in field_spec.types and name not in params:
            params[name] = upload
    return params


def missing_required(spec: MethodSpec, params: JSON) -> str | None:
    for name in spec.required:
        value = params.get(name)
        if value is None or value == "":
            return name
    return None
