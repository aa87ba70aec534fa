"""The clinician's windows: the session browser, the review view and the course view."""
