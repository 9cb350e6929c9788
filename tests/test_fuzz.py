"""Property-based fuzzing of the REST API: whatever JSON a client sends, the answer is never a 5xx, every 4xx
carries a string ``detail``, and no call leaves a session that later calls cannot serve."""

import copy
import json

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.main import create_app
from app.settings import Settings

LIMITS = Settings(
    db="",
    max_samples=300,
    max_steps_per_call=200,
    max_hidden_layers=3,
    max_units=16,
    max_trace_samples=300,
    max_sessions=100_000,
    max_sessions_per_client=100_000,
    create_rate="1000000/minute",
    max_train_seconds=5.0,
)
FUZZ = settings(
    max_examples=150,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.filter_too_much],
)
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")  # overflowing runs are part of the fuzz

NAMES = ["circle", "xor", "gauss", "spiral", "moons", "plane", "multi_gauss", "sine", "blobs", "custom", "nope"]
FEATURES = ["x1", "x2", "x1^2", "x2^2", "x1*x2", "sin(x1)", "sin(x2)", "x3"]
ACTIVATIONS = ["sigmoid", "tanh", "relu", "leaky_relu", "linear", "softmax", "swish"]
BASES = [
    {"dataset": {"name": "circle", "samples": 40}, "hidden": [3, 2]},
    {"dataset": {"name": "blobs", "samples": 45}, "optimizer": "adam"},
    {"dataset": {"name": "sine", "samples": 30}, "hidden": [4], "optimizer": "momentum"},
    {
        "dataset": {"name": "custom", "x": [[i, i % 3, 1.0] for i in range(12)], "y": [i % 2 for i in range(12)]},
        "hidden": [],
        "regularization": "l2",
        "reg_rate": 0.1,
    },
]

# -- strategies -----------------------------------------------------------------------------------------------

huge_ints = st.sampled_from([2**53 + 1, 2**63, 2**64, 10**30, -(2**63) - 1])  # JSON-exact and beyond int64
scalars = (
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**70), max_value=2**70)
    | huge_ints
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
junk = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=8,
)
numbers = (
    st.integers(-5, 5)
    | st.floats(-1e6, 1e6, allow_nan=False)
    | st.sampled_from([0.0, 1.0, 1e300, -1e300, 5e-324, 2**63])
)


@st.composite
def rows(draw, width=None):
    """A matrix of numbers, usually rectangular."""
    n = draw(st.integers(0, 12))
    d = width if width is not None else draw(st.integers(1, 3))
    if draw(st.integers(0, 9)) == 0:
        return draw(st.lists(st.lists(numbers, max_size=4), max_size=6))  # ragged
    return [draw(st.lists(numbers, min_size=d, max_size=d)) for _ in range(n)]


labels = st.lists(st.sampled_from([0, 1, 2, 0.5, -1]), min_size=1, max_size=12)
datasets = st.fixed_dictionaries(
    {"name": st.sampled_from(NAMES)},
    optional={
        "samples": st.integers(2, 300) | st.integers(-10, 10**7),
        "noise": st.floats(0, 1.5),
        "train_fraction": st.floats(0, 1.2),
        "seed": st.integers(-1, 2**33),
        "classes": st.integers(2, 11),
    },
) | st.fixed_dictionaries(
    {"name": st.just("custom"), "x": rows(), "y": rows() | labels},
    optional={
        "x_test": rows(),
        "y_test": rows() | labels,
        "task": st.sampled_from(["classification", "multiclass", "regression", "x"]),
    },
)
CONFIG_FIELDS = {
    "dataset": datasets,
    "features": st.lists(st.sampled_from(FEATURES), max_size=4),
    "hidden": st.lists(st.integers(0, 20), max_size=4),
    "activation": st.sampled_from(ACTIVATIONS) | st.lists(st.sampled_from(ACTIVATIONS), max_size=4),
    "output_activation": st.sampled_from(["linear", "sigmoid", "tanh", "softmax", "relu"]),
    "loss": st.sampled_from(["mse", "cross_entropy", "hinge"]),
    "learning_rate": st.floats(1e-4, 150),
    "batch_size": st.integers(-1, 400),
    "optimizer": st.sampled_from(["sgd", "momentum", "adam", "lbfgs"]),
    "momentum": st.floats(0, 1.2),
    "regularization": st.sampled_from(["none", "l1", "l2", "l3"]),
    "reg_rate": st.floats(0, 150),
    "init": st.sampled_from(["uniform", "xavier", "he", "zeros", "constant", "ones"]),
    "init_scale": st.floats(0, 150),
    "seed": st.integers(-1, 2**33),
}
configs = st.fixed_dictionaries({}, optional=CONFIG_FIELDS)


@st.composite
def mutate_deep(draw, value, depth=0):
    """``value`` with one change at a random depth: a subtree replaced by junk, a key dropped, a key added."""
    if isinstance(value, dict | list) and value and depth < 5 and draw(st.integers(0, 3)) > 0:
        out = copy.copy(value)
        key = draw(st.sampled_from(sorted(out))) if isinstance(out, dict) else draw(st.integers(0, len(out) - 1))
        out[key] = draw(mutate_deep(out[key], depth + 1))
        return out
    kind = draw(st.sampled_from(["replace", "drop", "extra"]))
    if kind == "drop" and isinstance(value, dict) and value:
        gone = draw(st.sampled_from(sorted(value)))
        return {k: v for k, v in value.items() if k != gone}
    if kind == "extra" and isinstance(value, dict):
        return {**value, draw(st.text(max_size=6)): draw(junk)}
    return draw(junk)


@st.composite
def mutated(draw, base):
    """A body from ``base`` with up to three changes anywhere inside (see ``mutate_deep``), or now and then
    no object at all."""
    if draw(st.integers(0, 14)) == 0:
        return draw(junk)
    body = draw(base)
    for _ in range(draw(st.integers(0, 3))):
        body = draw(mutate_deep(body))
    return body


# -- the app and the checks -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def api():
    """One in-process app for the whole module (a fresh session per example keeps examples independent)."""
    with TestClient(create_app(LIMITS), raise_server_exceptions=False) as client:
        yield client


def check(r):
    """Never a 5xx; a 4xx says why in a string ``detail``; a 2xx is strict JSON (no NaN)."""
    assert r.status_code < 500, (r.status_code, r.request.method, r.request.url, r.text[:500])
    if r.status_code == 204:
        return None
    body = json.loads(r.text, parse_constant=lambda c: pytest.fail(f"non-JSON constant {c} in {r.text[:200]}"))
    if r.status_code >= 400:
        assert isinstance(body, dict) and isinstance(body.get("detail"), str) and body["detail"], body
    return body


def send(api, method, url, body, headers=None):
    """Send a body as JSON (NaN-free by construction) and check the answer."""
    return check(
        api.request(
            method,
            url,
            content=json.dumps(body, allow_nan=False),
            headers={"content-type": "application/json", **(headers or {})},
        )
    )


class Session:
    """A fresh session from a config (or one just ``created``), deleted afterwards."""

    def __init__(self, api, base, created=None):
        out = created or send(api, "POST", "/api/sessions", base)
        assert isinstance(out, dict) and "id" in out, (base, out)
        self.api, self.url = api, f"/api/sessions/{out['id']}"
        self.headers = {"Authorization": f"Bearer {out['token']}"}
        self.state = out

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.api.delete(self.url, headers=self.headers)

    def call(self, method, suffix, body):
        return send(self.api, method, self.url + suffix, body, self.headers)

    def still_works(self):
        """GET, one training step and a one-sample trace still answer 200 after whatever came before."""
        state = self.call("GET", "", None)
        assert state is not None and "status" in state
        for suffix, body in (("/train", {"steps": 1}), ("/backprop", {"samples": [0]})):
            r = self.api.post(self.url + suffix, json=body, headers=self.headers)
            check(r)
            assert r.status_code == 200, (suffix, r.text[:300])


# -- the properties -------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def export_doc(api):
    """An export document of a run that stopped mid-epoch, with history and Adam's state."""
    with Session(api, BASES[1]) as s:
        s.call("POST", "/train", {"steps": 7})
        return s.call("GET", "/export", None)


def create_and_use(api, body):
    """POST a body to /api/sessions; a session it creates must then serve GET, train and backprop."""
    out = send(api, "POST", "/api/sessions", body)
    if isinstance(out, dict) and "token" in out:
        with Session(api, None, created=out) as s:
            s.still_works()


@FUZZ
@given(body=mutated(configs) | st.builds(lambda b: {"import": b}, junk))
def test_fuzz_create(api, body):
    create_and_use(api, body)


@FUZZ
@given(data=st.data())
def test_fuzz_import(api, export_doc, data):
    create_and_use(api, {"import": data.draw(mutate_deep(export_doc))})


@FUZZ
@given(base=st.sampled_from(BASES), body=mutated(configs))
def test_fuzz_patch(api, base, body):
    with Session(api, base) as s:
        s.call("PATCH", "", body)
        s.still_works()


train_bodies = st.fixed_dictionaries(
    {}, optional={"steps": st.integers(-3, 250) | huge_ints, "epochs": st.integers(-2, 60) | huge_ints}
)


@FUZZ
@given(base=st.sampled_from(BASES), body=mutated(train_bodies))
@example(base=BASES[0], body={"steps": 2**64})
def test_fuzz_train(api, base, body):
    with Session(api, base) as s:
        out = s.call("POST", "/train", body)
        if out is not None and "steps_done" in out:
            assert out["step"] == out["steps_done"] and isinstance(out["stopped_early"], bool)
        s.still_works()


backprop_bodies = st.fixed_dictionaries(
    {},
    optional={
        "samples": st.lists(st.integers(-3, 60) | huge_ints, max_size=8),
        "x": rows(),
        "y": rows() | labels,
    },
)


@FUZZ
@given(base=st.sampled_from(BASES), body=st.none() | mutated(backprop_bodies))
@example(base=BASES[0], body={"samples": [10**30]})  # once a 500: NumPy cannot hold the index
def test_fuzz_backprop(api, base, body):
    with Session(api, base) as s:
        out = s.call("POST", "/backprop", body)
        if out is not None and "m" in out:
            assert len(out["layers"]) == len(s.state["layer_sizes"])
            assert all(len(layer["a"]) == out["m"] for layer in out["layers"])


gradcheck_bodies = st.fixed_dictionaries(
    {},
    optional={
        "samples": st.lists(st.integers(-3, 60) | huge_ints, max_size=40),
        "epsilon": st.floats(-1, 1, allow_nan=False),
    },
)


@FUZZ
@given(base=st.sampled_from(BASES), body=st.none() | mutated(gradcheck_bodies))
@example(base=BASES[0], body={"samples": [10**30]})  # once a 500: NumPy cannot hold the index
def test_fuzz_gradcheck(api, base, body):
    with Session(api, base) as s:
        out = s.call("POST", "/gradcheck", body)
        if out is not None and "layers" in out:
            assert len(out["layers"]) == len(s.state["weights"])


@st.composite
def weights_near(draw, shapes):
    """Matrices of the right shapes, or nearly: a row or column more or less, a matrix missing or extra."""
    shapes = list(shapes)
    for _ in range(draw(st.integers(0, 2))):
        i = draw(st.integers(0, len(shapes) - 1))
        r, c = shapes[i]
        shapes[i] = (max(r + draw(st.integers(-1, 1)), 0), max(c + draw(st.integers(-1, 1)), 0))
    if draw(st.integers(0, 9)) == 0:
        shapes = shapes[:-1] if draw(st.booleans()) else [*shapes, (1, 2)]
    return [[draw(st.lists(numbers, min_size=c, max_size=c)) for _ in range(r)] for r, c in shapes]


@FUZZ
@given(base=st.sampled_from(BASES), data=st.data())
def test_fuzz_put_weights(api, base, data):
    with Session(api, base) as s:
        shapes = [(len(w), len(w[0])) for w in s.state["weights"]]
        body = data.draw(mutated(st.fixed_dictionaries({"weights": weights_near(shapes)})))
        before = s.call("GET", "", None)
        r = api.put(
            s.url + "/weights",
            content=json.dumps(body, allow_nan=False),
            headers={**s.headers, "content-type": "application/json"},
        )
        out = check(r)
        if r.status_code == 200:
            assert out == body or out["weights"] == [[[float(v) for v in row] for row in w] for w in body["weights"]]
            assert s.call("GET", "", None)["step"] == before["step"]
        else:
            assert s.call("GET", "", None)["weights"] == before["weights"]  # refused: nothing changed
        s.still_works()
