"""Configuration is read in one place (bot/config.py), and a bad value is one clear error (fast tier)."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from bot import config
from bot.cli import main
from bot.errors import ConfigError
from bot.llm import chat_model
from tests.conftest import free_port

ROOT = Path(__file__).resolve().parent.parent


def test_every_bot_variable_is_isolated_and_the_cache_is_the_sessions_own():
    assert [n for n in os.environ if n.startswith("BOT_") and n != "BOT_CACHE_DIR"] == []
    cache = config.cache_dir()
    assert cache != Path.home() / ".cache" / "approach-bot" and not cache.is_relative_to(ROOT)


def test_the_language_model_settings(monkeypatch: pytest.MonkeyPatch):
    assert config.llm() is None and config.llm_timeout() == 60.0
    assert config.openai_base_url() is None and config.openai_api_key() == "not-needed" and config.ollama_host() is None
    monkeypatch.setenv("BOT_LLM", "openai:gpt-test")
    monkeypatch.setenv("BOT_LLM_TIMEOUT", "2.5")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("OPENAI_API_KEY", "k")
    monkeypatch.setenv("OLLAMA_HOST", "http://127.0.0.1:11434")
    assert config.llm() == "openai:gpt-test" and config.llm_timeout() == 2.5
    assert (config.openai_base_url(), config.openai_api_key()) == ("http://127.0.0.1:9/v1", "k")
    assert config.ollama_host() == "http://127.0.0.1:11434"


@pytest.mark.parametrize("raw", ["soon", "0", "-5", "nan", "inf"])
def test_a_timeout_that_is_no_number_of_seconds_is_a_config_error(monkeypatch: pytest.MonkeyPatch, raw: str):
    monkeypatch.setenv("BOT_LLM_TIMEOUT", raw)
    with pytest.raises(ConfigError, match=f"BOT_LLM_TIMEOUT .*{re.escape(repr(raw))}"):
        config.llm_timeout()
    monkeypatch.setenv("BOT_INDEX_LOCK_TIMEOUT", "soon")
    with pytest.raises(ConfigError, match="BOT_INDEX_LOCK_TIMEOUT"):
        config.index_lock_timeout()


def test_an_unknown_backend_or_model_spec_is_a_config_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOT_EMBED_BACKEND", "GPU")
    with pytest.raises(ConfigError, match="BOT_EMBED_BACKEND must be auto, onnx or torch, not 'gpu'"):
        config.embed_backend()
    assert config.embed_backend("Torch") == "torch"  # an argument wins, read the same way
    for spec in ("gpt-4o", "anthropic:claude"):
        with pytest.raises(ConfigError, match="BOT_LLM"):
            chat_model(spec)


def test_auth_users_from_text_or_a_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    assert config.auth() is None
    monkeypatch.setenv("BOT_AUTH", " alice:pw , bob:p:w2 ")
    assert config.auth() == [("alice", "pw"), ("bob", "p:w2")]  # a password may hold a colon
    users = tmp_path / "users"
    users.write_text("# the team\n\ncarol:pw3\n", "utf-8")
    assert config.auth(str(users)) == [("carol", "pw3")]
    for bad in ("alice", "alice:", ":pw"):
        with pytest.raises(ConfigError, match="BOT_AUTH must be 'user:password'"):
            config.auth(bad)


def test_a_bad_setting_stops_the_cli_with_one_line(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("BOT_AUTH", "alice")
    result = CliRunner().invoke(main, ["chat", "--port", str(free_port())])
    assert result.exit_code == 1, result.output
    assert result.output.strip().splitlines() == ["error: BOT_AUTH must be 'user:password' (comma-separated) or a file of such lines"]


def test_only_config_writes_the_environment():
    """Library modules take settings from bot.config and pass libraries their switches as
    arguments; the few read from the environment only are set in one function there."""
    writes = re.compile(r"os\.environ\[[^]]+\]\s*=|os\.environ\.(?:setdefault|update|pop)\(|os\.putenv\(")
    reads = re.compile(r"os\.environ\b|os\.getenv\(")
    for path in sorted((ROOT / "bot").rglob("*.py")):
        if path.name == "config.py":
            continue
        text = path.read_text("utf-8")
        assert not writes.search(text), f"{path.name} writes the environment"
        assert not reads.search(text), f"{path.name} reads the environment (read it in bot/config.py)"


def test_a_profiles_sections_replace_the_defaults_of_their_name_and_keep_the_others(tmp_path: Path):
    from bot.profile import Profile, load_profile

    (tmp_path / "bot.yaml").write_text("sections:\n  cruxes: {heading: '^open questions', asked: ['open questions']}\n  who: null\n")
    profile = load_profile(tmp_path, None)
    defaults = Profile.defaults().sections
    assert profile.sections["cruxes"]["heading"] == "^open questions"
    assert "who" in defaults and "who" not in profile.sections
    assert profile.sections["sources"] == defaults["sources"]
