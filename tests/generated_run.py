"""The README's scripted run, written against a client that openapi-python-client generates from the served
OpenAPI (package ``bpp_client``). ``tests/test_generated_client.py`` generates the package, type-checks this
module against it with mypy and runs it against a real server."""

from __future__ import annotations

from typing import Any

from bpp_client import AuthenticatedClient, Client
from bpp_client.api.sessions import (
    backprop,
    create_session,
    delete_session,
    export_session,
    get_weights,
    gradcheck,
    train,
    update_session,
)
from bpp_client.models import (
    BackpropRequest,
    CreatedSession,
    DatasetConfig,
    DatasetConfigName,
    ErrorOut,
    ExportDocument,
    GradcheckOut,
    GradcheckRequest,
    ImportSession,
    SessionConfig,
    SessionConfigActivationType0,
    SessionPatch,
    TraceOut,
    TrainRequest,
    TrainResult,
    WeightsBody,
)


def scripted_run(base_url: str) -> dict[str, Any]:
    """Create, train, trace, check, export and import, refuse a bad patch, delete; returns what it saw."""
    with Client(base_url=base_url) as anonymous:
        config = SessionConfig(
            dataset=DatasetConfig(name=DatasetConfigName.XOR, samples=200, noise=0.1),
            hidden=[4],
            activation=SessionConfigActivationType0.TANH,
            learning_rate=0.1,
            seed=1,
        )
        made = create_session.sync(client=anonymous, body=config)
        assert isinstance(made, CreatedSession), made
    with AuthenticatedClient(base_url=base_url, token=made.token) as run:
        result = train.sync(made.id, client=run, body=TrainRequest(epochs=50))
        assert isinstance(result, TrainResult), result

        trace = backprop.sync(made.id, client=run, body=BackpropRequest(samples=[0]))  # z, a, δ, D
        assert isinstance(trace, TraceOut), trace
        output = trace.layers[-1]
        assert isinstance(output.delta, list)

        check = gradcheck.sync(made.id, client=run, body=GradcheckRequest())
        assert isinstance(check, GradcheckOut), check

        doc = export_session.sync(made.id, client=run)  # config, data, weights, optimizer state, history
        assert isinstance(doc, ExportDocument), doc
    with Client(base_url=base_url) as anonymous:
        copy = create_session.sync(client=anonymous, body=ImportSession(import_=doc))  # continues bit for bit
        assert isinstance(copy, CreatedSession), copy
    with AuthenticatedClient(base_url=base_url, token=made.token) as run:
        refused = update_session.sync_detailed(made.id, client=run, body=SessionPatch(learning_rate=-1))
        assert isinstance(refused.parsed, ErrorOut), refused
        weights = get_weights.sync(made.id, client=run)
        assert isinstance(weights, WeightsBody), weights
        deleted = delete_session.sync_detailed(made.id, client=run)
    with AuthenticatedClient(base_url=base_url, token=copy.token) as other:
        copy_weights = get_weights.sync(copy.id, client=other)
        assert isinstance(copy_weights, WeightsBody), copy_weights
        copy_deleted = delete_session.sync_detailed(copy.id, client=other)
    return {
        "id": made.id,
        "train_loss": result.metrics.train_loss,
        "train_accuracy": result.metrics.train_accuracy,
        "history": len(result.history),
        "delta": output.delta,
        "a": output.a,
        "y0": doc.data.y[0],
        "max_relative_error": check.max_relative_error,
        "refused": (int(refused.status_code), refused.parsed.detail, refused.parsed.field),
        "weights": weights.weights,
        "copy_weights": copy_weights.weights,
        "copy_step": copy.step,
        "step": result.step,
        "deleted": (int(deleted.status_code), int(copy_deleted.status_code)),
    }
