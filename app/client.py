"""A small Python client for the Backprop Playground REST API (docs/api.md), for notebooks and auto-graders.

Layer: none of the server's — it speaks HTTP to a running server, as any script would.

Usage::

    from app.client import Client, PlaygroundError

    with Client("http://127.0.0.1:8000") as pg:
        run = pg.create_session(dataset={"name": "xor", "samples": 200}, hidden=[4], learning_rate=0.1)
        result = run.train(epochs=20)               # the new state and this run's history
        print(result["step"], result["metrics"]["train_loss"])
        trace = run.backprop(samples=[0, 1])        # z, a, delta per layer, the gradients D, the cost J
        assert run.gradcheck()["max_relative_error"] < 1e-6
        copy = pg.import_session(run.export())      # continues bit for bit
        try:
            run.patch(learning_rate=-1)
        except PlaygroundError as err:
            print(err.status, err.field, err.detail)  # 422 learning_rate …
        run.delete()
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import httpx
import numpy as np

__all__ = ["Client", "PlaygroundError", "RemoteSession"]
_NOT_STATE = ("token", "history", "steps_done", "stopped_early")


class PlaygroundError(Exception):
    """A refusal from the server: its HTTP ``status``, its ``detail`` and the ``field`` it names (or None)."""

    def __init__(self, status: int, detail: str, field: str | None = None) -> None:
        super().__init__(f"{status}: {detail}")
        self.status = status
        self.detail = detail
        self.field = field


def _plain(value: Any) -> Any:
    """NumPy arrays (at any depth of lists) as plain nested lists of floats."""
    if isinstance(value, np.ndarray):
        return np.asarray(value, dtype=np.float64).tolist()
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _error(response: httpx.Response) -> PlaygroundError:
    """The PlaygroundError for a non-2xx response, with the server's detail and field when it sent them."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if not isinstance(body, dict):
        return PlaygroundError(response.status_code, response.text or response.reason_phrase)
    field = body.get("field")
    errors = body.get("errors")
    if field is None and isinstance(errors, list) and errors and isinstance(errors[0], dict):
        field = errors[0].get("field")
    return PlaygroundError(response.status_code, str(body.get("detail", response.reason_phrase)), field)


class Client:
    """A connection to one server; use it as a context manager or call ``close()``."""

    def __init__(
        self,
        base_url: str = "http://127.0.0.1:8000",
        *,
        timeout: float = 120.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self.http = httpx.Client(base_url=base_url.rstrip("/"), timeout=timeout, transport=transport)

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self.http.close()

    def request(self, method: str, path: str, token: str | None = None, body: Any = None) -> Any:
        """Send one call; the decoded JSON answer (None for 204), or PlaygroundError for any non-2xx."""
        headers = {"Authorization": f"Bearer {token}"} if token else None
        response = self.http.request(method, path, json=body, headers=headers)
        if not response.is_success:
            raise _error(response)
        return None if response.status_code == 204 or not response.content else response.json()

    def health(self) -> dict[str, Any]:
        """``{"status": "ok", "version": …}``."""
        out: dict[str, Any] = self.request("GET", "/api/health")
        return out

    def datasets(self) -> list[dict[str, Any]]:
        """The built-in datasets: name, task, inputs, outputs, description."""
        out: list[dict[str, Any]] = self.request("GET", "/api/datasets")
        return out

    def create_session(self, config: dict[str, Any] | None = None, **fields: Any) -> RemoteSession:
        """A new session from a config dict and/or keyword fields (every field optional)."""
        return self._created(self.request("POST", "/api/sessions", body=_plain({**(config or {}), **fields})))

    def import_session(self, doc: dict[str, Any]) -> RemoteSession:
        """A new session continuing an exported run (a document from ``RemoteSession.export``)."""
        return self._created(self.request("POST", "/api/sessions", body={"import": doc}))

    def open_session(self, id: str, token: str) -> RemoteSession:
        """An existing session by id and token (its state is fetched, so a bad token fails here)."""
        session = RemoteSession(self, id, token)
        session.get()
        return session

    def _created(self, out: dict[str, Any]) -> RemoteSession:
        return RemoteSession(self, out["id"], out["token"], out)


class RemoteSession:
    """One session on the server; ``state`` is the last session state an answer carried."""

    def __init__(self, client: Client, id: str, token: str, state: dict[str, Any] | None = None) -> None:
        self.client = client
        self.id = id
        self.token = token
        self.state: dict[str, Any] = {}
        if state is not None:
            self._keep(state)

    def __repr__(self) -> str:
        return f"RemoteSession(id={self.id!r}, step={self.state.get('step')})"

    def _call(self, method: str, suffix: str = "", body: Any = None) -> Any:
        return self.client.request(method, f"/api/sessions/{self.id}{suffix}", self.token, body)

    def _keep(self, out: dict[str, Any]) -> dict[str, Any]:
        self.state = {k: v for k, v in out.items() if k not in _NOT_STATE}
        return out

    def get(self) -> dict[str, Any]:
        """Config, step, epoch, status, metrics and weights."""
        return self._keep(self._call("GET"))

    def patch(self, **changes: Any) -> dict[str, Any]:
        """Change hyperparameters (the weights stay); ``hidden``, ``features``, ``dataset``, ``seed`` rebuild."""
        return self._keep(self._call("PATCH", body=_plain(changes)))

    def reset(self, seed: int | None = None) -> dict[str, Any]:
        """New weights from the config's seed, or from ``seed``."""
        return self._keep(self._call("POST", "/reset", {} if seed is None else {"seed": seed}))

    def train(self, steps: int | None = None, epochs: int | None = None) -> dict[str, Any]:
        """Train ``steps`` updates or ``epochs`` epochs: the new state with ``history``, ``steps_done``."""
        body = {k: v for k, v in (("steps", steps), ("epochs", epochs)) if v is not None}
        return self._keep(self._call("POST", "/train", body))

    def backprop(self, samples: Sequence[int] | None = None, x: Any = None, y: Any = None) -> dict[str, Any]:
        """The trace (no update) of training samples by index, raw rows ``x`` with targets ``y``, or all."""
        body = {k: _plain(v) for k, v in (("samples", samples), ("x", x), ("y", y)) if v is not None}
        out: dict[str, Any] = self._call("POST", "/backprop", body)
        return out

    def gradcheck(self, samples: Sequence[int] | None = None, epsilon: float | None = None) -> dict[str, Any]:
        """Analytic beside numerical gradients, with relative errors per layer and overall."""
        body = {k: _plain(v) for k, v in (("samples", samples), ("epsilon", epsilon)) if v is not None}
        out: dict[str, Any] = self._call("POST", "/gradcheck", body)
        return out

    def weights(self) -> list[list[list[float]]]:
        """Θ^(1..L−1) as nested lists, column 0 the bias weights."""
        out: list[list[list[float]]] = self._call("GET", "/weights")["weights"]
        return out

    def set_weights(self, weights: Sequence[Any]) -> list[list[list[float]]]:
        """Replace Θ (lists or NumPy arrays); resets the optimizer state, keeps the counters."""
        out: list[list[list[float]]] = self._call("PUT", "/weights", {"weights": _plain(list(weights))})["weights"]
        return out

    def export(self) -> dict[str, Any]:
        """The whole run as one JSON document, for ``Client.import_session``."""
        out: dict[str, Any] = self._call("GET", "/export")
        return out

    def delete(self) -> None:
        """Delete the session on the server."""
        self._call("DELETE")
