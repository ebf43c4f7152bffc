"""What the testbed self-tests share: a failed check and how its details are shown."""


class Failure(Exception):
    pass


def expect(condition, message, *details):
    """Raises Failure with `message` (and the details, shortened) unless `condition`."""
    if not condition:
        if details:
            message += ": " + "; ".join(shown(d) for d in details)
        raise Failure(message)


def shown(value, limit=300):
    text = value if isinstance(value, str) else repr(value)
    return text if len(text) <= limit else text[:limit] + "..."
