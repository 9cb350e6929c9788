"""The published OpenAPI, read as a generator or a reader of /docs would: every operation named as a
method, tagged, with its bearer scheme, its models, every refusal it can answer with the shared error body,
and an example for every request and response that validates against its own schema. /docs and /redoc
render with no network at all."""

from __future__ import annotations

from typing import Any

import jsonschema_rs
import pytest
from page_helpers import browser, page  # noqa: F401 (fixtures)

from app.main import create_app
from app.settings import Settings

OPENAPI: dict[str, Any] = create_app(Settings(db="")).openapi()
OPERATIONS = [(path, method, op) for path, ops in OPENAPI["paths"].items() for method, op in ops.items()]
IDS = [op["operationId"] for _, _, op in OPERATIONS]
SESSION_CALLS = {"get_session", "update_session", "delete_session", "reset_session", "train", "backprop"}
SESSION_CALLS |= {"gradcheck", "get_weights", "set_weights", "export_session"}


def resolve(schema: dict[str, Any]) -> dict[str, Any]:
    """A component schema behind a ``$ref``."""
    ref = schema.get("$ref")
    return OPENAPI["components"]["schemas"][ref.rsplit("/", 1)[1]] if ref else schema


def members(schema: dict[str, Any]) -> list[dict[str, Any]]:
    """The alternatives of a union schema (nested unions flattened, null left out)."""
    options = schema.get("anyOf") or schema.get("oneOf")
    if options is None:
        return [] if schema.get("type") == "null" else [schema]
    return [m for option in options for m in members(option)]


def validate(instance: Any, schema: dict[str, Any]) -> None:
    """Validate against a schema of the spec, its references resolved within the spec."""
    jsonschema_rs.Draft202012Validator({**schema, "components": OPENAPI["components"]}).validate(instance)


def test_operation_ids_read_as_method_names() -> None:
    assert sorted(IDS) == sorted(
        SESSION_CALLS
        | {"health", "list_datasets", "create_session", "open_room", "get_room", "fork_room", "export_room"}
        | {"get_class", "close_room", "remove_fork", "set_room_lesson", "answer_room_lesson"}
    )


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=IDS)
def test_each_operation_is_tagged_and_described(path: str, method: str, op: dict[str, Any]) -> None:
    assert len(op["tags"]) == 1 and op["tags"][0] in {t["name"] for t in OPENAPI["tags"]}
    assert op["summary"] and op["description"]
    token = op["operationId"] in SESSION_CALLS | {
        "open_room",
        "get_class",
        "close_room",
        "remove_fork",
        "set_room_lesson",
    }
    assert (op.get("security") == [{"token": []}]) == token
    if token:
        assert {"401", "403", "404"} <= set(op["responses"])


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=IDS)
def test_each_refusal_has_the_shared_error_body_and_an_example(path: str, method: str, op: dict[str, Any]) -> None:
    refusals = {code: r for code, r in op["responses"].items() if code >= "400"}
    assert {"400", "413"} <= set(refusals)  # the host check and the body limit answer before any route
    if "requestBody" in op:
        assert {"400", "422"} <= set(refusals)
    for code, answer in refusals.items():
        media = answer["content"]["application/json"]
        if (op["operationId"], code) == ("health", "503"):  # the health body itself, status "unavailable"
            assert media["schema"] == {"$ref": "#/components/schemas/HealthOut"}
            continue
        assert media["schema"] == {"$ref": "#/components/schemas/ErrorOut"}, code
        validate(media["example"], media["schema"])
        assert answer["description"]


@pytest.mark.parametrize(("path", "method", "op"), OPERATIONS, ids=IDS)
def test_each_request_and_response_has_a_valid_example(path: str, method: str, op: dict[str, Any]) -> None:
    if "requestBody" in op:
        schema = op["requestBody"]["content"]["application/json"]["schema"]
        for member in members(schema):
            examples = resolve(member).get("examples") or []
            assert examples, f"no request example for {member}"
            for example in examples:
                validate(example, schema)
    success = {code: r for code, r in op["responses"].items() if code < "300"}
    assert len(success) == 1
    code, answer = next(iter(success.items()))
    if code == "204":
        assert "content" not in answer
        return
    media = answer["content"]["application/json"]
    schema = media["schema"]
    examples = [media["example"]] if "example" in media else resolve(schema).get("examples")
    assert examples, f"no response example for {op['operationId']}"
    for example in examples:
        validate(example, schema)


def test_the_bearer_scheme_and_the_live_channels_are_declared() -> None:
    assert OPENAPI["components"]["securitySchemes"]["token"] == {
        "type": "http",
        "scheme": "bearer",
        "description": OPENAPI["components"]["securitySchemes"]["token"]["description"],
    }
    text = OPENAPI["info"]["description"]
    for words in ("/api/sessions/{session_id}/ws", "/api/rooms/{code}/ws", "docs/protocol.md", "protocol version 3"):
        assert words in text


@pytest.mark.browser
@pytest.mark.parametrize(("path", "shown"), [("/docs", ".opblock"), ("/redoc", "[data-section-id]")])
def test_docs_render_offline(live_server: Any, page: Any, path: str, shown: str) -> None:  # noqa: F811
    """Swagger UI and ReDoc come from the server itself: with every other host blocked, both draw the API."""
    page.route("**/*", lambda route: route.continue_() if "127.0.0.1" in route.request.url else route.abort())
    page.goto(live_server.url + path)
    page.wait_for_selector(shown, timeout=20_000)
    assert page.locator(shown).count() >= 19 if path == "/docs" else page.locator(shown).count() > 0
    page.screenshot(path=f"/tmp/bpp-openapi{path.replace('/', '-')}.png")
    assert not page.watch.offsite(), page.watch.requests  # nothing was even asked of another host
    page.watch.check()
