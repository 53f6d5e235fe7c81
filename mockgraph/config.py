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
    time_scale: float = 1.0
    step_mode: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> Settings:
        """Settings from ``MOCKGRAPH_*`` variables; a bad value raises ``ValueError``."""
        env = os.environ if env is None else env
        port_text = env.get("MOCKGRAPH_PORT", str(DEFAULT_PORT))
        try:
            port = int(port_text)
        except ValueError:
            raise ValueError(f"MOCKGRAPH_PORT must be a port number, not {port_text!r}") from None
        scale_text = env.get("MOCKGRAPH_TIME_SCALE", "1")
        try:
            time_scale = parse_time_scale(scale_text)
        except ValueError:
            raise ValueError(
                f"MOCKGRAPH_TIME_SCALE must be a number 0 or more, not {scale_text!r}"
            ) from None
        step_text = env.get("MOCKGRAPH_STEP", "").lower()
        if step_text not in ("", "0", "1", "true", "false", "yes", "no"):
            raise ValueError(f"MOCKGRAPH_STEP must be 1 or 0, not {step_text!r}")
        scenarios = env.get("MOCKGRAPH_SCENARIOS", "")
        return cls(
            host=env.get("MOCKGRAPH_HOST", DEFAULT_HOST),
            port=port,
            scenario_paths=tuple(p for p in scenarios.split(":") if p),
            callback_url=env.get("MOCKGRAPH_CALLBACK_URL") or None,
            time_scale=time_scale,
            step_mode=step_text in ("1", "true", "yes"),
        )


def parse_time_scale(text: str) -> float:
    """A time scale: a number, 0 or more (``ValueError`` otherwise)."""
    value = float(text)
    if not value >= 0 or value == float("inf"):
        raise ValueError(text)
    return value
