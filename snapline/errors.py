"""One root exception for everything snapline raises on purpose.

Each subclass names a family of failures; messages say what was expected, what came, and where.
"""


class SnaplineError(Exception):
    """Root of every error snapline raises deliberately."""


class ConfigError(SnaplineError):
    """A setting or command-line option is invalid."""


class BrokerError(SnaplineError):
    """The local Kafka broker cannot be installed, started, reached or stopped."""


class BrokerUnreachableError(BrokerError):
    """No Kafka broker answered at the configured address within the timeout."""


class DeliveryError(SnaplineError):
    """Kafka did not acknowledge a produced message."""


class InputError(SnaplineError):
    """An input file or message is missing, truncated or malformed."""


class TopicError(SnaplineError):
    """The topics definition cannot be applied as written."""


class VendorError(SnaplineError):
    """A market-data vendor answered with something unusable, or refused a request for good."""


class VendorAuthError(VendorError):
    """A vendor rejected the API key (retrying cannot help)."""
