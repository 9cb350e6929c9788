"""REST routes for sessions (SPEC §3): thin handlers over ``app.sessions`` and ``app.wire``."""

from __future__ import annotations

import math
import time
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Header, Request, Response

from app import wire
from app.api.deps import CreateRate, SettingsDep, StoreDep, client_address, client_key
from app.engine import BUILTIN, EngineError
from app.schemas import (
    BackpropRequest,
    CreatedSession,
    CreateSession,
    DatasetOut,
    GradcheckOut,
    GradcheckRequest,
    ResetRequest,
    SessionConfig,
    SessionPatch,
    SessionState,
    TraceOut,
    TrainRequest,
    TrainResult,
    WeightsBody,
)
from app.sessions import ApiError, Session, finite_rows, trainer_from_export

router = APIRouter(prefix="/api", tags=["sessions"])


def bearer(authorization: Annotated[str | None, Header(description="Bearer <session token>")] = None) -> str | None:
    """The token of an ``Authorization: Bearer …`` header, if any."""
    if authorization and authorization[:7].lower() == "bearer ":
        return authorization[7:].strip()
    return None


def open_session(session_id: str, store: StoreDep, token: Annotated[str | None, Depends(bearer)]) -> Session:
    """The session named in the path, opened with the caller's token."""
    return store.get(session_id, token)


SessionDep = Annotated[Session, Depends(open_session)]


def state(session: Session) -> dict[str, Any]:
    """The session as GET returns it: its latest snapshot (no lock, no engine work)."""
    return session.view()


@router.get("/datasets", response_model=list[DatasetOut], tags=["meta"])
def datasets() -> list[dict[str, Any]]:
    """The built-in datasets: name, task, number of inputs and outputs."""
    return [vars(info) for info in BUILTIN.values()]


@router.post("/sessions", status_code=201, response_model=CreatedSession, dependencies=[CreateRate])
async def create_session(
    request: Request,
    store: StoreDep,
    settings: SettingsDep,
    body: Annotated[CreateSession | None, Body()] = None,
) -> Response:
    """Create a session from a config (every field optional), or from ``{"import": <export document>}``."""
    body = body or CreateSession()
    client, address = client_key(request), client_address(request)
    if body.import_ is not None:
        async with store.heavy(client):
            try:
                doc = body.import_.model_dump()
                (config, trainer), charge = await store.build(
                    trainer_from_export, doc, settings, client=client, address=address
                )
            except EngineError as err:
                field = err.field if err.field.startswith("import") else f"import.{err.field}"
                raise ApiError(422, f"{field}: {err.message}", field) from None
            session, token = await store.create(config, client, trainer, charge=charge)
    else:
        config = SessionConfig.model_validate(body.model_dump(exclude={"import_"}, exclude_unset=True))
        session, token = await store.create(config, client, address=address)
    return wire.JSONResponse({"token": token, **session.view()}, status_code=201)


@router.get("/sessions/{session_id}", response_model=SessionState)
async def get_session(session: SessionDep) -> Response:
    """Config, step, epoch, status, metrics and weights (as of the latest engine call: never waits for one)."""
    return wire.JSONResponse(session.view())


@router.patch("/sessions/{session_id}", response_model=SessionState)
async def patch_session(session: SessionDep, patch: SessionPatch, settings: SettingsDep, store: StoreDep) -> Response:
    """Change hyperparameters without resetting the weights. ``hidden``, ``features``, ``dataset`` or ``seed``
    change the network or its data and re-initialize it from the seed."""
    changes = patch.model_dump(exclude_unset=True)
    if changes.get("hidden") is not None and changes.get("activation") is None:
        changes["activation"] = session.config.activation  # one name spreads over the new hidden layers
    try:
        await store.apply(session, lambda: session.apply_changes(changes, settings))
    except EngineError as err:
        raise ApiError.from_engine(err) from None
    return wire.JSONResponse(session.view())


@router.post("/sessions/{session_id}/reset", response_model=SessionState)
async def reset_session(
    session: SessionDep, store: StoreDep, body: Annotated[ResetRequest | None, Body()] = None
) -> Response:
    """New weights from the config's seed (or a given ``seed``): the same seed replays the same run."""
    seed = body.seed if body else None
    await store.apply(session, lambda: session.reset(seed))
    return wire.JSONResponse(session.view())


@router.post("/sessions/{session_id}/train", response_model=TrainResult)
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
            session.mark_changed()
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


@router.post("/sessions/{session_id}/backprop", response_model=TraceOut)
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
        try:
            return wire.JSONResponse(await session.run(run))
        except EngineError as err:
            raise ApiError.from_engine(err) from None


@router.post("/sessions/{session_id}/gradcheck", response_model=GradcheckOut)
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
        try:
            out = await session.run(lambda: session.gradcheck(req.samples, req.epsilon, settings))
        except EngineError as err:
            raise ApiError.from_engine(err) from None
    return wire.JSONResponse(out)


@router.get("/sessions/{session_id}/weights", response_model=WeightsBody)
async def get_weights(session: SessionDep) -> Response:
    """Θ^(1..L−1), column 0 the bias weights (as of the latest engine call: never waits for one)."""
    return wire.JSONResponse({"weights": session.view()["weights"]})


@router.put("/sessions/{session_id}/weights", response_model=WeightsBody)
async def put_weights(session: SessionDep, body: WeightsBody, store: StoreDep) -> Response:
    """Replace Θ (shapes checked); resets the optimizer state and keeps the counters."""
    try:
        await store.apply(session, lambda: session.trainer.set_weights(body.weights))
    except EngineError as err:
        raise ApiError.from_engine(err) from None
    return wire.JSONResponse({"weights": session.view()["weights"]})


@router.get("/sessions/{session_id}/export")
async def export_session(session: SessionDep) -> Response:
    """One JSON document (config, data, weights, optimizer state, counters, history) that
    ``POST /api/sessions`` accepts back as ``{"import": doc}``."""
    return wire.JSONResponse(await session.read(session.export))


@router.delete("/sessions/{session_id}", status_code=204)
async def delete_session(session: SessionDep, store: StoreDep) -> Response:
    """Delete the session (204 once its row is gone from the database; 503 when it cannot be deleted)."""
    await store.remove(session.id)
    return Response(status_code=204)
