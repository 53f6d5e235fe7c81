"""One settings object from command-line flags and environment variables (flags win)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    scenario_paths: tuple[str, ...] = field(default_factory=tuple)
    callback_url: str | None = None
    delivery_timeout: float = 10.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``MOCKGRAPH_*`` variables; a bad value raises ``ValueError``."""
        env = os.environ if env is None else env
        port_text = env.get("MOCKGRAPH_PORT", str(DEFAULT_PORT))
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError(f"MOCKGRAPH_PORT must be a port number, not {port_text!r}") from None
        scenarios = env.get("MOCKGRAPH_SCENARIOS", "")
        return cls(
            host=env.get("MOCKGRAPH_HOST", DEFAULT_HOST),
            port=port,
            scenario_paths=tuple(p for p in scenarios.split(":") if p),
            callback_url=env.get("MOCKGRAPH_CALLBACK_URL") or None,
        )
