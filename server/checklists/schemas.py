"""Wire shapes of checklist templates; the item rules live here, in one schema.

An item: a unique ``key``; a ``type`` of pass_fail_na, number, text, choice or photo; number items
carry a ``unit`` and optional ``min`` ≤ ``max``; choice items carry distinct ``options``; a
``condition`` shows the item only when an *earlier* item has a given answer.
"""

from __future__ import annotations

import marshmallow as ma
from marshmallow import validate

from server.customers.models import CustomerCategory
from server.jobs.models import JobType
from server.pagination import PageArgsSchema

ITEM_TYPES = ("pass_fail_na", "number", "text", "choice", "photo")
PASS_FAIL_NA = ("pass", "fail", "na")
HAZARD_LEVELS = ("critical", "major", "minor")
_KEY = validate.Regexp(r"^[a-z][a-z0-9_]{0,59}$", error="a lower-case key such as leak_test")
_CODE = validate.Regexp(r"^[a-z][a-z0-9_\-]{0,59}$", error="a lower-case code such as residential_inspection")


class OptionSchema(ma.Schema):
    """One answer of a choice item."""

    value = ma.fields.String(required=True, validate=validate.Length(min=1, max=60))
    label = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))


class ConditionSchema(ma.Schema):
    """Show the item only when the earlier item ``key`` was answered ``equals``."""

    key = ma.fields.String(required=True, validate=_KEY)
    equals = ma.fields.Raw(required=True)


class ItemSchema(ma.Schema):
    """One checklist item (see the module doc for the rules)."""

    key = ma.fields.String(required=True, validate=_KEY)
    label = ma.fields.String(required=True, validate=validate.Length(min=1, max=200))
    label_en = ma.fields.String(validate=validate.Length(max=200))
    type = ma.fields.String(required=True, validate=validate.OneOf(ITEM_TYPES))
    required = ma.fields.Boolean(load_default=True)
    unit = ma.fields.String(validate=validate.Length(min=1, max=20))
    min = ma.fields.Float(allow_nan=False)
    max = ma.fields.Float(allow_nan=False)
    options = ma.fields.List(ma.fields.Nested(OptionSchema), validate=validate.Length(min=2, max=30))
    condition = ma.fields.Nested(ConditionSchema)
    hazard_on_fail = ma.fields.String(validate=validate.OneOf(HAZARD_LEVELS))

    @ma.validates_schema
    def _by_type(self, item: dict, **kwargs) -> None:
        kind = item.get("type")
        errors: dict[str, list[str]] = {}
        if kind == "number":
            if not item.get("unit"):
                errors["unit"] = ["a number item needs a unit"]
            if "min" in item and "max" in item and item["min"] > item["max"]:
                errors["max"] = ["must not be less than min"]
        else:
            for name in ("unit", "min", "max"):
                if name in item:
                    errors[name] = ["only number items have it"]
        if kind == "choice":
            values = [o["value"] for o in item.get("options", [])]
            if not values:
                errors["options"] = ["a choice item needs options"]
            elif len(set(values)) != len(values):
                errors["options"] = ["option values must be distinct"]
        elif "options" in item:
            errors["options"] = ["only choice items have options"]
        if errors:
            raise ma.ValidationError(errors)


def _condition_problem(condition: dict, earlier: dict[str, dict]) -> str | None:
    target = earlier.get(condition["key"])
    if target is None:
        return f"refers to {condition['key']!r}, which is not an earlier item"
    equals = condition["equals"]
    if target["type"] == "pass_fail_na" and equals not in PASS_FAIL_NA:
        return f"{condition['key']} is answered pass, fail or na"
    if target["type"] == "choice" and equals not in {o["value"] for o in target["options"]}:
        return f"{equals!r} is not an option of {condition['key']}"
    if target["type"] == "photo":
        return "a condition cannot depend on a photo"
    return None


class TemplateBodySchema(ma.Schema):
    """A template version's content."""

    name = ma.fields.String(required=True, validate=validate.Length(min=1, max=120))
    name_en = ma.fields.String(load_default="", validate=validate.Length(max=120))
    job_type = ma.fields.Enum(JobType, by_value=True, required=True)
    customer_categories = ma.fields.List(ma.fields.Enum(CustomerCategory, by_value=True), load_default=list)
    items = ma.fields.List(ma.fields.Nested(ItemSchema), required=True, validate=validate.Length(min=1, max=200))

    @ma.validates_schema
    def _keys_and_conditions(self, data: dict, **kwargs) -> None:
        earlier: dict[str, dict] = {}
        problems: dict[int, dict[str, list[str]]] = {}
        for index, item in enumerate(data.get("items", [])):
            if item["key"] in earlier:
                problems[index] = {"key": [f"{item['key']!r} is used by an earlier item"]}
            elif "condition" in item:
                problem = _condition_problem(item["condition"], earlier)
                if problem:
                    problems[index] = {"condition": [problem]}
            earlier.setdefault(item["key"], item)
        if problems:
            raise ma.ValidationError({"items": problems})


class TemplateCreateSchema(TemplateBodySchema):
    """A new checklist, version 1 of its code."""

    code = ma.fields.String(required=True, validate=_CODE)


class TemplateSchema(ma.Schema):
    """One published version of a checklist."""

    id = ma.fields.UUID()
    code = ma.fields.String()
    version_no = ma.fields.Integer()
    name = ma.fields.String()
    name_en = ma.fields.String()
    job_type = ma.fields.String()
    customer_categories = ma.fields.List(ma.fields.String())
    items = ma.fields.List(ma.fields.Dict())
    active = ma.fields.Boolean()
    published_at = ma.fields.AwareDateTime(allow_none=True)


class TemplateListArgsSchema(PageArgsSchema):
    """Active versions by default; ``all=true`` includes the old ones."""

    all = ma.fields.Boolean(load_default=False)
    code = ma.fields.String(validate=validate.Length(min=1, max=60))
    job_type = ma.fields.Enum(JobType, by_value=True)
