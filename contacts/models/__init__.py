"""Models of the contacts app, one module per topic, re-exported here."""

from .contacts import *  # noqa: F403
from .imports import *  # noqa: F403
from .numbers import *  # noqa: F403
from .unsubscribers import *  # noqa: F403
