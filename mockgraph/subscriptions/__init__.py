"""Change-notification subscriptions."""
