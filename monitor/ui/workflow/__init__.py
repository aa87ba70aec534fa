"""The nurse's workflow: panel, events bar and list, and the session dialogs."""
