"""The route rule: which connectors carry a message, in the order to try them.

A route matches by country, an optional number prefix (digits after +) and the service; empty fields match
anything. The most specific route wins: the longest matching prefix, then an exact country over any, then an
exact service over any. An account pinned to a route set is routed by that set first, then by the platform
table; the route with no country, prefix or service is the catch-all. Only active routes and active connectors
count. No route at all: None, and the outbox uses the simulator. A campaign that names a connector keeps it.

Failover: `next_connector(message)` is the connector after the message's own in its route (the route's first
when its own is no longer in it), and `fail_over` moves queued messages to it; the outbox calls it on a transient
connector failure (an HTTP upstream down), and `reroute_stranded` (a beat sweep) moves the messages of an SMPP
connector that has had no bound session for a while.
"""

from collections import defaultdict
from datetime import timedelta

from django.db.models import Prefetch, Q
from django.utils import timezone

from campaigns.models import (
    BindState,
    Campaign,
    Connector,
    ConnectorKind,
    Message,
    Route,
    RouteSetMember,
    RouteStep,
    SmppBind,
)
from campaigns.states import MessageState

STRANDED_AFTER_SECONDS = 60


def _specificity(route: Route) -> tuple:
    return (-len(route.prefix), route.country == "", route.service == "", route.pk)


class Router:
    """Routes of one account and service, loaded once per send or preparation; lookups are cached."""

    def __init__(self, account_id: int, service: str, pinned: Connector | None = None):
        self.pinned_id = pinned.pk if pinned is not None and pinned.is_active else None
        route_set = RouteSetMember.objects.filter(account_id=account_id).values_list("route_set_id", flat=True).first()
        steps = RouteStep.objects.filter(connector__is_active=True).order_by("position", "id")
        routes = list(
            Route.objects.filter(is_active=True)
            .filter(Q(route_set__isnull=True) | Q(route_set_id=route_set))
            .filter(Q(service="") | Q(service=service))
            .prefetch_related(Prefetch("steps", queryset=steps))
        )
        tables = [r for r in routes if r.route_set_id is not None], [r for r in routes if r.route_set_id is None]
        self.routes = [route for table in tables for route in sorted(table, key=_specificity)]
        self.prefix_length = max((len(route.prefix) for route in self.routes), default=0)
        self._cache: dict[tuple[str, str], list[int]] = {}
        self._everywhere: list[int] | None = None  # the answer for every number: pinned, or no route looks at it
        if self.pinned_id is not None:
            self._everywhere = [self.pinned_id]
        elif not any(route.country or route.prefix for route in self.routes):
            self._everywhere = self._match("", "")

    def connector_ids_for(self, recipient: str, country: str) -> list[int]:
        """The connectors for an E.164 number of `country`, in the order to try them (empty: the simulator)."""
        if self._everywhere is not None:
            return self._everywhere
        key = (country, recipient.lstrip("+")[: self.prefix_length])
        ids = self._cache.get(key)
        if ids is None:
            ids = self._cache[key] = self._match(key[1], country)
        return ids

    def connector_for(self, recipient: str, country: str) -> int | None:
        """The first connector to try (None: the simulator)."""
        ids = self.connector_ids_for(recipient, country)
        return ids[0] if ids else None

    def _match(self, digits: str, country: str) -> list[int]:
        for route in self.routes:
            if route.country and route.country != country:
                continue
            if route.prefix and not digits.startswith(route.prefix):
                continue
            ids = [step.connector_id for step in route.steps.all()]
            if ids:
                return ids
        return []


def next_connector(message: Message) -> Connector | None:
    """The connector to try after the message's own in its route (same rule as `Router`), None at the route's end.

    For failover: the outbox's answer to a transient connector failure and the sweep for SMPP connectors that are
    down call `fail_over`, which moves queued messages there."""
    target = _next_connector_id(Router(message.account_id, message.service), message)
    return Connector.objects.filter(pk=target).first() if target is not None else None


def _next_connector_id(router: Router, message: Message) -> int | None:
    ids = router.connector_ids_for(message.recipient, message.country)
    if message.connector_id not in ids:
        return ids[0] if ids else None  # its connector left the route (inactive, removed): the route's first
    index = ids.index(message.connector_id)
    return ids[index + 1] if index + 1 < len(ids) else None


def fail_over(messages: list[Message]) -> int:
    """Move queued messages to the next connector of their route (`next_connector`); returns how many moved.

    Called by the outbox on a transient connector failure (`ConnectorResult.connector_down`) and by
    `reroute_stranded` for SMPP connectors that are down. Messages of a campaign that names its connector, at the
    end of their route, or no longer queued on the connector they had stay where they are. One Router per account
    and service, one UPDATE per (from, to) pair."""
    campaign_ids = {message.campaign_id for message in messages if message.campaign_id}
    pinned = set(
        Campaign.objects.filter(pk__in=campaign_ids, connector__isnull=False).values_list("pk", flat=True)
        if campaign_ids
        else ()
    )
    routers: dict[tuple[int, str], Router] = {}
    moves: dict[tuple[int | None, int], list[int]] = defaultdict(list)
    for message in messages:
        if message.campaign_id in pinned:
            continue
        key = (message.account_id, message.service)
        if key not in routers:
            routers[key] = Router(*key)
        target = _next_connector_id(routers[key], message)
        if target is not None and target != message.connector_id:
            moves[(message.connector_id, target)].append(message.pk)
    moved = 0
    for (current, target), ids in moves.items():
        moved += Message.objects.filter(pk__in=ids, state=MessageState.QUEUED, connector_id=current).update(
            connector_id=target
        )
    return moved


def down_smpp_connectors(now=None) -> list[int]:
    """SMPP connectors with no bound session for STRANDED_AFTER_SECONDS (no worker, or every bind failing)."""
    now = now or timezone.now()
    recent = now - timedelta(seconds=STRANDED_AFTER_SECONDS)
    alive = SmppBind.objects.filter(state=BindState.BOUND, heartbeat_at__gte=recent).values("connector_id")
    quiet = Q(smpp_binds__isnull=True) | Q(smpp_binds__state_since__lt=recent)
    connectors = Connector.objects.filter(kind=ConnectorKind.SMPP).exclude(pk__in=alive).filter(quiet)
    return list(connectors.values_list("pk", flat=True).distinct())


def reroute_stranded(limit: int = 5000) -> int:
    """Queued, unclaimed messages of a down SMPP connector go to the next connector of their route."""
    down = down_smpp_connectors()
    if not down:
        return 0
    now = timezone.now()
    stranded = (
        Message.objects.filter(connector_id__in=down, state=MessageState.QUEUED, not_before__lte=now)
        .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
        .select_related("campaign")[:limit]
    )
    return fail_over(list(stranded))


def set_steps(route: Route, connectors: list[Connector]) -> Route:
    """The route's connectors become `connectors`, tried in that order."""
    route.steps.all().delete()
    RouteStep.objects.bulk_create(
        RouteStep(route=route, connector=connector, position=index) for index, connector in enumerate(connectors)
    )
    return route


def set_catch_all(connector: Connector) -> Route:
    """The platform's catch-all route (no country, prefix or service) goes through `connector` alone."""
    route, _ = Route.objects.get_or_create(route_set=None, country="", prefix="", service="")
    return set_steps(route, [connector])
