"""The API as its OpenAPI schema describes it: operations, the view behind each path, and the objects its ids name.

Used by the generated BOLA and mass-assignment tests, so a new route is covered without editing them.
"""

import itertools
import re
import uuid
from dataclasses import dataclass, field
from functools import cache

from django.db import models
from django.urls import Resolver404, resolve
from drf_spectacular.generators import SchemaGenerator
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from portal.api.viewsets import AccountScopedViewSet, PlatformStaffViewSet
from portal.roles import Role

METHODS = ("get", "post", "put", "patch", "delete")
WRITE_METHODS = ("post", "put", "patch")
PARAMETER = re.compile(r"\{(\w+)\}")
SAMPLE_VALUES = (str(uuid.UUID(int=1)), "1")  # a UUID, then an integer: what the id patterns of the routes accept

ACCOUNT_OWNED, PLATFORM_STAFF = "account-owned", "platform-staff"


@cache
def schema_paths() -> dict:
    """`paths` of the schema the API serves (the same generator as GET /api/v2/schema/)."""
    return SchemaGenerator().get_schema(request=None, public=True)["paths"]


def operations(methods=METHODS) -> list[tuple[str, str]]:
    """Every (path template, METHOD) of the schema among `methods`, in schema order."""
    return [(path, method.upper()) for path, item in schema_paths().items() for method in methods if method in item]


def parameters(path: str) -> list[str]:
    return PARAMETER.findall(path)


def fill(path: str, values: dict) -> str:
    return PARAMETER.sub(lambda match: str(values[match.group(1)]), path)


@dataclass(frozen=True)
class Route:
    """The view a schema path resolves to: its class, the keyword arguments of `as_view` and its action map."""

    path: str
    view_class: type
    initkwargs: dict = field(default_factory=dict)
    actions: dict = field(default_factory=dict)

    @property
    def kind(self) -> str | None:
        """ACCOUNT_OWNED (a viewset over rows with an account), PLATFORM_STAFF, or None (unclassified)."""
        if issubclass(self.view_class, PlatformStaffViewSet):
            return PLATFORM_STAFF
        if issubclass(self.view_class, AccountScopedViewSet) and has_account(self.model):
            return ACCOUNT_OWNED
        return None

    @property
    def model(self):
        queryset = getattr(self.view_class, "queryset", None)
        return None if queryset is None else queryset.model

    def view(self, method: str, *, account, user, role=Role.ADMIN, kwargs=None):
        """An instance of the view as it would run `method` for `user` in `account` (for its queryset)."""
        view = self.view_class(**self.initkwargs)
        view.action_map = self.actions
        view.action = self.actions.get(method.lower())
        request = Request(APIRequestFactory().generic(method, "/"))
        request.user = user
        request.account, request.role, request.token = account, role, None
        view.request, view.args, view.kwargs, view.format_kwarg = request, (), dict(kwargs or {}), None
        return view


@cache
def route_of(path: str) -> Route:
    """The view behind a schema path, found by resolving it with sample ids."""
    names = parameters(path)
    for values in itertools.product(SAMPLE_VALUES, repeat=len(names)):
        try:
            match = resolve(fill(path, dict(zip(names, values, strict=True))))
        except Resolver404:
            continue
        view = match.func
        if not hasattr(view, "cls"):  # the catch-all JSON 404 of unknown /api/ paths
            continue
        return Route(path, view.cls, dict(getattr(view, "initkwargs", {})), dict(getattr(view, "actions", {}) or {}))
    raise LookupError(f"{path} does not resolve with sample ids {SAMPLE_VALUES}")


def has_account(model) -> bool:
    return model is not None and any(f.name == "account" for f in model._meta.concrete_fields)


def lookup_of(view) -> tuple[str, str]:
    """(URL keyword, model field) the view looks its object up by."""
    return view.lookup_url_kwarg or view.lookup_field, view.lookup_field


def parent_path(path: str, name: str) -> str:
    """`/contacts/{id}/identifiers/{iid}/`, `id` → `/contacts/{id}/` (the path of the parent object)."""
    end = path.index("{" + name + "}") + len(name) + 2
    return path[:end] + "/"


def link_to(child_model, parent_model) -> str | None:
    """Name of the child's foreign key to the parent model, if it has one."""
    for f in child_model._meta.concrete_fields:
        if isinstance(f, models.ForeignKey) and f.related_model is parent_model:
            return f.name
    return None


# Path parameters that are values, not object ids (`/verify/{id}/{code}`), with a value to call them with.
VALUE_PARAMETERS = {"code": "123456"}


@dataclass
class Bound:
    """The objects (and URL values) a path's ids name for one account; `missing` is the route without a row."""

    objects: dict = field(default_factory=dict)
    values: dict = field(default_factory=dict)
    missing: Route | None = None
    url: str = ""


def bind(path: str, method: str, *, account, user) -> Bound:
    """Objects of `account` for every id of `path`: parents through their own route, the last through this one."""
    route = route_of(path)
    view = route.view(method, account=account, user=user)
    own_kwarg, _ = lookup_of(view)
    bound = Bound()
    for name in parameters(path):
        if name in VALUE_PARAMETERS:
            bound.values[name] = VALUE_PARAMETERS[name]
            continue
        is_own = name == own_kwarg
        owner = route if is_own else route_of(parent_path(path, name))
        owner_view = owner.view(method if is_own else "GET", account=account, user=user, kwargs=bound.values)
        kwarg, lookup = lookup_of(owner_view)
        if kwarg != name:
            raise LookupError(f"{path}: {{{name}}} is not the id of {owner.view_class.__name__} ({kwarg})")
        queryset = owner_view.get_queryset()
        if not is_own and route.model is not None and link_to(route.model, owner.model):
            parents = queryset.filter(pk__in=route.model.objects.values(link_to(route.model, owner.model)))
            queryset = parents if parents.exists() else queryset
        obj = queryset.order_by("pk").first()
        if obj is None:
            bound.missing = owner
            return bound
        bound.objects[name] = obj
        bound.values[name] = str(getattr(obj, lookup))
    bound.url = fill(path, bound.values)
    return bound
