"""Models of the campaigns app, one module per topic, re-exported here."""
from .senders import *  # noqa: F403
from .templates import *  # noqa: F403
from .campaigns import *  # noqa: F403
