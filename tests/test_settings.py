"""Settings: every BPP_ variable parses from the environment and has a row in docs/setup.md's settings table."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from app.settings import Settings

SETUP = (Path(__file__).resolve().parent.parent / "docs/setup.md").read_text()


@pytest.mark.parametrize("name", sorted(Settings.model_fields))
def test_every_setting_is_documented_in_the_settings_table(name: str) -> None:
    row = f"| `BPP_{name.upper()}` |"
    assert row in SETUP, f"BPP_{name.upper()} needs a row in the settings table of docs/setup.md"


def test_settings_come_from_bpp_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPP_PORT", "9123")
    monkeypatch.setenv("BPP_ALLOWED_ORIGINS", "https://a.example, http://b.example:8080/")
    monkeypatch.setenv("BPP_SESSION_TTL", "60")
    s = Settings()
    assert s.port == 9123
    assert s.allowed_origins == ["https://a.example", "http://b.example:8080"]
    assert s.session_ttl == 60.0


@pytest.mark.parametrize(("var", "value"), [("BPP_PORT", "0"), ("BPP_FPS", "-1"), ("BPP_CREATE_RATE", "lots")])
def test_a_bad_setting_is_refused_naming_it(monkeypatch: pytest.MonkeyPatch, var: str, value: str) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(ValidationError, match=var.removeprefix("BPP_").lower()):
        Settings()


def test_the_old_engine_thread_setting_is_refused_naming_the_new_one(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BPP_WORKERS", "2")
    with pytest.raises(ValueError, match="BPP_WORKERS was renamed BPP_ENGINE_THREADS"):
        Settings()


def test_serve_refuses_the_old_setting_with_a_message(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from app import cli
    from app.settings import get_settings

    monkeypatch.setenv("BPP_WORKERS", "4")
    get_settings.cache_clear()
    try:
        with pytest.raises(SystemExit) as exit_:
            cli.main(["serve"])
    finally:
        get_settings.cache_clear()
    assert exit_.value.code == 2
    assert "BPP_WORKERS was renamed BPP_ENGINE_THREADS" in capsys.readouterr().err
