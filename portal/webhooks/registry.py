"""The events webhooks can carry. Channels register theirs with `register(EventType(...))` (campaigns registers
`sms:message:status` in its AppConfig.ready, with a sample built by the same code as its live events)."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class EventType:
    name: str
    description: str
    sample_payload: dict = field(default_factory=dict)
    # A customized webhook (method, URL placeholders, params, headers, body) can carry this event.
    customizable: bool = False
    # Webhooks can subscribe to it (webhook:ping only goes to the webhook being tested).
    subscribable: bool = True


_EVENTS: dict[str, EventType] = {}


def register(event_type: EventType) -> EventType:
    _EVENTS[event_type.name] = event_type
    return event_type


def get(name: str) -> EventType:
    try:
        return _EVENTS[name]
    except KeyError:
        raise ValueError(f"unknown event {name!r}") from None


def all_events() -> list[EventType]:
    return sorted(_EVENTS.values(), key=lambda event: event.name)


def subscribable_events() -> list[EventType]:
    return [event for event in all_events() if event.subscribable]


register(
    EventType(
        "sms:unsubscription",
        "A number opted out",
        sample_payload={"receiver": "+918921269000", "type": "all", "value": "", "source": "inbound", "text": "STOP"},
    )
)
register(
    EventType(
        "contacts:subscriber:subscription",
        "A contact was created, updated or deleted",
        sample_payload={"action": "created", "contact": {"id": "…", "phone": "+918921269000", "first_name": "Asha"}},
    )
)
register(
    EventType(
        "webhook:ping",
        "Test event sent from the portal",
        sample_payload={"message": "Test event from the CPaaS portal"},
        subscribable=False,
    )
)
