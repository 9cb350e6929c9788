"""REST routes for sessions (docs/api.md): thin handlers over ``app.sessions`` and ``app.wire``.

Layer: API. Refusals are raised, never caught here: ``app.api.errors`` answers each with its status.
"""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Request, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer

from app import wire
from app.api.deps import CreateRate, SettingsDep, StoreDep, client_address, client_key
from app.api.errors import ApiError, responses
from app.engine import EngineError
from app.schemas import (
    BackpropRequest,
    CreatedSession,
    CreateSession,
    ExportDocument,
    GradcheckOut,
    GradcheckRequest,
    ImportSession,
    ResetRequest,
    SessionConfig,
    SessionPatch,
    SessionState,
    TraceOut,
    TrainRequest,
    TrainResult,
    WeightsBody,
)
from app.sessions import Session, finite_rows, trainer_from_export

router = APIRouter(prefix="/api", tags=["sessions"])
TOKEN_SCHEME = HTTPBearer(
    auto_error=False,  # a missing token is the store's 401, with the shared error body
    scheme_name="token",
    description="The session's token (from `create_session` or `fork_room`); for `get_class` and `close_room`, "
    "the room's teacher token.",
)
SESSION_ERRORS = responses(401, 403, 404)  # every call on a session: no token, a wrong one, no such session
WITH_BODY = (400, 401, 403, 404, 422)  # … and a body that cannot be read or is refused


def bearer(credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(TOKEN_SCHEME)]) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    return credentials.credentials.strip() if credentials else None


def open_session(session_id: str, store: StoreDep, token: Annotated[str | None, Depends(bearer)]) -> Session:
    """The session named in the path, opened with the caller's token."""
    return store.get(session_id, token)


SessionDep = Annotated[Session, Depends(open_session)]


def state(session: Session) -> dict[str, Any]:
    """The session as GET returns it: its latest snapshot (no lock, no engine work)."""
    return session.view()


@router.post(
    "/sessions",
    status_code=201,
    response_model=CreatedSession,
    dependencies=[CreateRate],
    operation_id="create_session",
    responses=responses(400, 422, 429, 503),
)
async def create_session(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    body: Annotated[CreateSession | None, Body()] = None,
) -> Response:
    """Create a session from a config (every field optional), or from ``{"import": <export document>}``."""
    client, address = client_key(request), client_address(request)
    if isinstance(body, ImportSession):
        async with store.heavy(client):
            doc = body.import_.model_dump()
            (config, trainer), charge = await store.build(
                trainer_from_export, doc, settings, client=client, address=address
            )
            session, token = await store.create(config, client, trainer, charge=charge)
    else:
        session, token = await store.create(body or SessionConfig(), client, address=address)
    return wire.JSONResponse({"token": token, **session.view()}, status_code=201)


@router.get("/sessions/{session_id}", response_model=SessionState, operation_id="get_session", responses=SESSION_ERRORS)
async def get_session(session: SessionDep) -> Response:
    """Config, step, epoch, status, metrics and weights (as of the latest engine call: never waits for one)."""
    return wire.JSONResponse(session.view())


@router.patch(
    "/sessions/{session_id}",
    response_model=SessionState,
    operation_id="update_session",
    responses=responses(*WITH_BODY, 429, 503),
)
async def patch_session(session: SessionDep, patch: SessionPatch, settings: SettingsDep, store: StoreDep) -> Response:
    """Change hyperparameters without resetting the weights. ``hidden``, ``features``, ``dataset`` or ``seed``
    change the network or its data and re-initialize it from the seed."""
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("hidden") is not None and changes.get("activation") is None:
        changes["activation"] = session.config.activation  # one name spreads over the new hidden layers
    await store.apply(session, lambda: session.apply_changes(changes, settings))
    return wire.JSONResponse(session.view())


@router.post(
    "/sessions/{session_id}/reset",
    response_model=SessionState,
    operation_id="reset_session",
    responses=responses(*WITH_BODY, 503),
)
async def reset_session(
    session: SessionDep, store: StoreDep, body: Annotated[ResetRequest | None, Body()] = None
) -> Response:
    """New weights from the config's seed (or a given ``seed``): the same seed replays the same run."""
    seed = body.seed if body else None
    await store.apply(session, lambda: session.reset(seed))
    return wire.JSONResponse(session.view())


@router.post(
    "/sessions/{session_id}/train",
    response_model=TrainResult,
    operation_id="train",
    responses=responses(*WITH_BODY, 429, 503),
)
async def train_session(
    request: Request, session: SessionDep, req: TrainRequest, settings: SettingsDep, store: StoreDep
) -> Response:
    """Train for ``steps`` mini-batch updates or ``epochs`` whole epochs; answers with the state and this run's
    history. Long runs are cut into short slices so other clients keep being served; the run is saved before
    it answers (a failed save undoes it: 503)."""
    tr = session.trainer
    per_epoch = math.ceil(tr.n_train / tr.config.batch_size)
    asked = req.steps if req.steps is not None else req.epochs * per_epoch  # type: ignore[operator]
    if asked > settings.max_steps_per_call:
        field = "steps" if req.steps is not None else "epochs"
        raise ApiError(422, f"{field}: at most {settings.max_steps_per_call} steps per call on this server", field)
    async with store.heavy(client_key(request)), session.run_lock:
        memento = await session.run(session.memento)
        tr = session.trainer
        start_step, target_epoch = tr.step_count, tr.epoch + (req.epochs or 0)
        deadline = time.perf_counter() + settings.max_train_seconds
        slice_s = settings.train_slice_ms / 1000.0
        done = 0

        def chunk() -> int:
            until = time.perf_counter() + slice_s
            if req.steps is not None:
                n = session.trainer.run(steps=req.steps - done, deadline=until)
            else:
                n = session.trainer.run(epochs=max(target_epoch - session.trainer.epoch, 0), deadline=until)
            session.publish(exact=False)
            return n

        while True:
            done += await session.run(chunk)
            session.live.mark_changed()
            finished = done >= req.steps if req.steps is not None else session.trainer.epoch >= target_epoch
            gone = store.sessions.get(session.id) is not session  # deleted while training
            if finished or gone or session.trainer.diverged or time.perf_counter() > deadline:
                break
        await store.commit(session, memento)

        def result() -> dict[str, Any]:
            session.publish()
            history = [wire.metrics(m) for m in session.trainer.history_with_latest() if m.step > start_step]
            return {**session.view(), "steps_done": done, "stopped_early": not finished, "history": history}

        return wire.JSONResponse(await session.run(result))


@router.post(
    "/sessions/{session_id}/backprop",
    response_model=TraceOut,
    operation_id="backprop",
    responses=responses(*WITH_BODY, 429),
)
async def backprop(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    req: Annotated[BackpropRequest | None, Body()] = None,
) -> Response:
    """The full forward and backward pass at the current weights, with no update: training samples by
    index, raw rows ``x`` with targets ``y``, or nothing for the whole training set."""
    req = req or BackpropRequest()
    limit = settings.max_trace_samples

    def run() -> dict[str, Any]:
        tr = session.trainer
        if req.x is not None:
            x, y = finite_rows(req.x, "x"), finite_rows(req.y, "y")
            if len(x) > limit:
                raise EngineError("x", f"at most {limit} rows per call")
            if x.shape[1] != tr.dataset.inputs or y.shape[1] != tr.dataset.outputs or len(x) != len(y):
                raise EngineError(
                    "x",
                    f"x must be rows of {tr.dataset.inputs} numbers, y rows of {tr.dataset.outputs}, one per row of x",
                )
            return session.one_off(lambda: wire.trace(tr.trace(x, y)))
        samples = req.samples if req.samples is not None else list(range(tr.n_train))
        if len(samples) > limit:
            raise EngineError("samples", f"at most {limit} samples per call (the training set has {tr.n_train})")
        return session.one_off(lambda: wire.trace(tr.trace_samples(samples)))

    async with store.heavy(client_key(request)):
        return wire.JSONResponse(await session.run(run, store.one_offs))


@router.post(
    "/sessions/{session_id}/gradcheck",
    response_model=GradcheckOut,
    operation_id="gradcheck",
    responses=responses(*WITH_BODY, 429),
)
async def gradcheck(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    store: StoreDep,
    req: Annotated[GradcheckRequest | None, Body()] = None,
) -> Response:
    """Analytic D beside the central-difference numerical gradient, with relative errors per layer and
    overall; on the given training samples, or the first 32. A big network has a spread of its weights
    checked (``checked`` says how many; the others are null), so that the check takes seconds, not minutes."""
    req = req or GradcheckRequest()
    async with store.heavy(client_key(request)):
        out = await session.run(lambda: session.gradcheck(req.samples, req.epsilon, settings), store.one_offs)
    return wire.JSONResponse(out)


@router.get(
    "/sessions/{session_id}/weights", response_model=WeightsBody, operation_id="get_weights", responses=SESSION_ERRORS
)
async def get_weights(session: SessionDep) -> Response:
    """Θ^(1..L−1), column 0 the bias weights (as of the latest engine call: never waits for one)."""
    return wire.JSONResponse({"weights": session.view()["weights"]})


@router.put(
    "/sessions/{session_id}/weights",
    response_model=WeightsBody,
    operation_id="set_weights",
    responses=responses(*WITH_BODY, 503),
)
async def put_weights(session: SessionDep, body: WeightsBody, store: StoreDep) -> Response:
    """Replace Θ (shapes checked); resets the optimizer state and keeps the counters."""
    await store.apply(session, lambda: session.trainer.set_weights(body.weights))
    return wire.JSONResponse({"weights": session.view()["weights"]})


@router.get(
    "/sessions/{session_id}/export",
    response_model=ExportDocument,
    operation_id="export_session",
    responses=SESSION_ERRORS,
)
async def export_session(session: SessionDep) -> Response:
    """One JSON document (config, data, weights, optimizer state, counters, history) that
    ``POST /api/sessions`` accepts back as ``{"import": doc}``."""
    return wire.JSONResponse(await session.read(session.export))


@router.delete(
    "/sessions/{session_id}",
    status_code=204,
    response_class=Response,
    operation_id="delete_session",
    responses=responses(401, 403, 404, 503),
)
async def delete_session(session: SessionDep, store: StoreDep) -> Response:
    """Delete the session (204 once its row is gone from the database; 503 when it cannot be deleted)."""
    await store.remove(session.id)
    return Response(status_code=204)
