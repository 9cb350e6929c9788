"""The one error type the engine raises for input it refuses."""


class EngineError(ValueError):
    """A configuration, array or value the engine refuses; ``field`` names the culprit."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message
