"""Key presses: how tests and scenarios write them, and Graph's ``tone`` names for them."""

from __future__ import annotations

# A key press as a test or scenario writes it (one character) -> Graph's tone enum member.
TONE_KEYS = {
    **{str(digit): f"tone{digit}" for digit in range(10)},
    "*": "star",
    "#": "pound",
    **{letter: letter.lower() for letter in "ABCD"},
}
TONES = (*TONE_KEYS.values(), "flash")


def tone_names(tones: str | list[str]) -> list[str]:
    """``"12#"`` or ``["tone1", "pound"]`` as Graph's tone names; ValueError names the first
    that is neither a key (0-9 * # A-D) nor a tone name."""
    names = []
    for tone in tones:
        name = TONE_KEYS.get(tone.upper(), tone) if len(tone) == 1 else tone
        if name not in TONES:
            raise ValueError(
                f"{tone!r} is not a key (0-9, *, #, A-D) or a tone name ({', '.join(TONES)})"
            )
        names.append(name)
    return names
