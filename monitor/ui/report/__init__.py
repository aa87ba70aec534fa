"""The session report (PDF)."""
