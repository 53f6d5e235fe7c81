"""A local Microsoft identity platform: app registrations and the client-credentials flow."""
