"""mockgraph: a local fake of Microsoft Graph's calling API for testing calling bots."""

__version__ = "0.1.0"
