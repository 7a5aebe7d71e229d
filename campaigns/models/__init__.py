"""Models of the campaigns app, one module per topic, re-exported here."""

from .campaigns import *  # noqa: F403
from .links import *  # noqa: F403
from .routing import *  # noqa: F403
from .scheduled import *  # noqa: F403
from .senders import *  # noqa: F403
from .smpp_gateway import *  # noqa: F403
from .templates import *  # noqa: F403
from .verify import *  # noqa: F403
