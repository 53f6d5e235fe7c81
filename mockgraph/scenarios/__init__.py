"""Scenario files: loading and checking, selection, templating and playback."""
