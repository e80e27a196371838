"""Forms generated from ``schema/``: field descriptions for the templates and parsing of the post.

Each property becomes one input per existing value plus an empty one for a new value (inputs
named ``p.<property>``), so multi-valued properties need no JavaScript. A property a record holds one
value of (a link's dates, a choice such as a link's confidence) gets one input, and topics one select of
several choices. The templates decide how a field looks from its ``widget``; nothing here renders HTML.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlparse

from starlette.datastructures import FormData

from workbench.schema import Property, ValidationError, registry
from workbench.types import MONEY_HELP

PREFIX = "p."


@dataclass
class Field:
    name: str
    label: str
    widget: str  # input / textarea / select
    values: list[str]
    required: bool = False
    help: str | None = None
    choices: list[tuple[str, str]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    input_type: str = "text"
    single: bool = False  # one value: no spare input for another one
    multiple: bool = False  # one select of several choices (widget 'select'): topics

    @property
    def input_name(self) -> str:
        return PREFIX + self.name

    @property
    def select_size(self) -> int:
        """The rows a select of several choices shows at once (all of the topics' twelve do not fit)."""
        return min(len(self.choices), 6)

    @property
    def inputs(self) -> list[tuple[str, str | None]]:
        """Each input the field shows, as (its value, its name for screen readers, None where the visible
        label names it): one per value held or typed plus an empty one for another value; a single-valued
        field one (more only for the values an import stored), and a select of several choices one."""
        if self.multiple:
            return [("", None)]
        values = list(self.values)
        spare = None if self.single else len(values)
        if spare is not None or not values:
            values.append("")
        return [(value, None if k == 0 else f"{self.label}, {'another value' if k == spare else f'value {k + 1}'}")
                for k, value in enumerate(values)]

    @property
    def refused(self) -> list[int]:
        """Which inputs (by index) get aria-invalid and the summary's link: those whose value a message
        quotes ('1990-13-45' is not a date), else every filled one, else the first (a required field
        left empty); none without errors. The spare "another value" input is never one of them."""
        if not self.errors:
            return []
        if self.multiple:  # one select holds them all
            return [0]
        said = "\n".join(self.errors)
        quoted = [k for k, value in enumerate(self.values) if f"'{value}'" in said]
        return quoted or list(range(len(self.values))) or [0]


_INPUT_TYPES = {"date": "text", "url": "url", "email": "email", "number": "text", "percentage": "text"}
# Property types whose values are tags an entry holds several of at once: one select of several choices.
# Other choices (a gender, a territory's level, a link's confidence) are one select of one choice.
MULTIPLE_CHOICE_TYPES = frozenset({"topic"})
# What a validator accepts, said under each field of its type: the check and its help in one place
# (workbench/types.py), so that the help cannot promise a form the check refuses.
_VALIDATOR_HELP = {"money": MONEY_HELP}


def _choices(prop: Property) -> list[tuple[str, str]]:
    reg = registry()
    spec = prop.spec
    if spec.get("choices_from"):
        return list(reg.vocabularies[spec["choices_from"]].items())
    return [(c, c) for c in spec.get("choices") or ()]


def fields_for(props: dict[str, Property], values: dict[str, list[str]] | None = None,
               errors: dict[str, list[str]] | None = None,
               warnings: dict[str, list[str]] | None = None, single: Iterable[str] = ()) -> list[Field]:
    """``single``: properties the record holds one value of besides its choices (a link's dates, which the
    store keeps in the link's start and end)."""
    values = values or {}
    errors = errors or {}
    warnings = warnings or {}
    single = set(single)
    result = []
    for name, prop in props.items():
        choices = _choices(prop)
        multiple = bool(choices) and prop.type.name in MULTIPLE_CHOICE_TYPES
        if choices:
            widget = "select"
        elif prop.type.validator == "text":
            widget = "textarea"
        else:
            widget = "input"
        help_text = prop.help or _VALIDATOR_HELP.get(prop.type.validator) or prop.type.help
        result.append(Field(name=name, label=prop.label, widget=widget, values=list(values.get(name, [])),
                            required=prop.required, help=help_text, choices=choices,
                            errors=errors.get(name, []), warnings=warnings.get(name, []),
                            input_type=_INPUT_TYPES.get(prop.type.validator, "text"),
                            single=name in single or (bool(choices) and not multiple), multiple=multiple))
    return result


def properties_from_form(form: FormData, props: dict[str, Property]) -> dict[str, list[str]]:
    """``{property: [non-empty values]}`` from the posted ``p.<property>`` inputs."""
    result: dict[str, list[str]] = {}
    for name in props:
        values = [v.strip() for v in form.getlist(PREFIX + name) if isinstance(v, str) and v.strip()]
        if values:
            result[name] = values
    return result


def form_value(form: FormData, key: str, default: str = "") -> str:
    value = form.get(key)
    return value.strip() if isinstance(value, str) else default


def posted_base(form: FormData, accepts: Callable[[Any], bool]) -> dict | None:
    """The values an edit form was opened with (its hidden ``base``), if they came back intact:
    what store.rebase_edit carries a conflicting save over from."""
    try:
        base = json.loads(form_value(form, "base") or "null")
    except ValueError:
        return None
    if not isinstance(base, dict) or not all(accepts(value) for value in base.values()):
        return None
    return base


def conflict_messages(what: str, rebased: Any, label: Callable[[str], str], yours: bool = False) -> list[str]:
    """What a form re-shown after a conflict says (store.rebase_edit carried the user's changes over):
    ``what`` names the record, ``label`` a field. ``yours``: the change met was the user's own (saved from
    another tab, or by a second click), which 'someone else' would misreport."""
    if yours:
        messages = [f"{what} was changed by you since this form was opened (in another tab, or with a second "
                    "click). Nothing was saved from this form: it now holds the current version with this form's "
                    "changes carried over; check it and save again."]
        other, both = "Changed in your other save (now shown)", "Changed in both saves"
    else:
        messages = [f"{what} was changed by someone else since you opened it. Nothing was saved: the form now "
                    "holds the current version with your changes carried over; check it and save again."]
        other, both = "Changed by the other person (now shown)", "Changed by both of you"
    if rebased.theirs:
        messages.append(f"{other}: {', '.join(map(label, rebased.theirs))}.")
    if rebased.both:
        messages.append(f"{both} (your value is shown; check it against the record's page): "
                        f"{', '.join(map(label, rebased.both))}.")
    return messages


def _whole_number(value: str) -> bool:
    return value.isascii() and value.isdigit()  # '²' and '١' are digits to str.isdigit, not to int()


def form_int(form: FormData, key: str) -> int | None:
    """An optional whole number: None when the field is missing or blank. A value that is no whole number
    is refused, never read as 'not given' (a version 'abc' skipped the optimistic lock)."""
    value = form_value(form, key)
    if not value:
        return None
    if not _whole_number(value):
        raise ValidationError({key: [f"{value[:40]!r} is not a whole number"]})
    return int(value)


def form_version(form: FormData, what: str, key: str = "version") -> int:
    """The version of ``what`` an edit or delete form was opened with (its hidden ``version``), which every
    such form sends: without it, or with one that is no whole number (a form altered or cut short), the
    change is refused, since whether someone else changed ``what`` meanwhile cannot be told."""
    value = form_value(form, key)
    if _whole_number(value):
        return int(value)
    got = "had no version" if not value else f"had {value[:40]!r} for its version, which is not a whole number"
    raise ValidationError({key: [f"This form {got}, so whether someone else changed {what} since it was opened "
                                 f"could not be checked: check {what} as it is now, and make your change again."]})


def other_errors(errors: dict[str, list[str]], known: dict[str, Any]) -> dict[str, list[str]]:
    """Errors that belong to no field on the form (shown at the top)."""
    return {k: v for k, v in errors.items() if k not in known}


def same_site_path(target: str | None, default: str = "/") -> str:
    """``target`` if it is a path on this site, else ``default``: a redirect to an address that a form
    or a link carried in (after sign-in, after removing a citation) must not lead elsewhere (phishing)."""
    if not target:
        return default
    parsed = urlparse(target)
    if parsed.scheme or parsed.netloc or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return default
    return target


def field_label(key: str) -> str:
    """A field as a form names it: 'comment' -> 'Comment', 'birthDate' -> 'Birth date', 'item_id' -> 'Item id'."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", " ", str(key)).replace("_", " ").replace(".", " ").split()
    text = " ".join(words).lower()
    return text[:1].upper() + text[1:] if text else "Request"


def field_errors(errors: dict | None) -> list[tuple[str, str]]:
    """(field, message) pairs for the page, each message once."""
    pairs = [(field_label(key), str(m)) for key, messages in (errors or {}).items() for m in messages]
    return list(dict.fromkeys(pairs))


@contextmanager
def named_as_sent(names: dict[str, str]) -> Iterator[None]:
    """A refused field named as the request sent it: the services name fields as the pages' forms do
    ('citation', 'state', 'q'), while an API caller sent 'citation_id' or 'action', and the search page
    labels its 'q' as 'Name'."""
    try:
        yield
    except ValidationError as exc:
        exc.errors = {names.get(key, key): messages for key, messages in exc.errors.items()}
        raise


_CHOICES_PATTERN = re.compile(r"^\^\(([\w|-]+)\)\$$")


def request_error_message(item: dict) -> str:
    """One of FastAPI's (pydantic's) validation errors for a query or form parameter, in the words the
    workbench's own forms use, naming the value given: its own wording ('String should match pattern
    '^(graphml|gexf|json)$'', 'unable to parse string as an integer') speaks to a programmer."""
    kind, ctx = item.get("type", ""), item.get("ctx") or {}
    given = item.get("input")
    got = f" (got {given!r})" if isinstance(given, str | int | float) and not isinstance(given, bool) else ""
    if kind == "string_pattern_mismatch":
        choices = _CHOICES_PATTERN.match(str(ctx.get("pattern", "")))
        if choices:
            return f"must be one of {', '.join(choices.group(1).split('|'))}{got}"
        return f"is not in the expected form{got}"
    if kind == "int_parsing" or kind == "int_from_float":
        return f"must be a whole number{got}"
    if kind == "float_parsing":
        return f"must be a number{got}"
    if kind == "bool_parsing":
        return f"must be true or false (yes/no, 1/0){got}"
    if kind in ("greater_than_equal", "greater_than"):
        return f"must be at least {ctx.get('ge', ctx.get('gt'))}{got}"
    if kind in ("less_than_equal", "less_than"):
        return f"must be at most {ctx.get('le', ctx.get('lt'))}{got}"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected', '')}{got}".replace("'", "")
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters long"
    if kind == "missing":
        return "is required"
    return item.get("msg", "invalid")
