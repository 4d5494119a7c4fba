"""Helpers every app may use: settings from the environment, logs, rate limits, the audit log, the
two-factor rule and changes of a person's standing. This package imports no app of ours; apps tell
it what it needs to know (`two_factor.require_for`, the `standing.changed` signal)."""
