"""The nurse's session workflow (issue 5): set-up, baseline gate, infusion, recovery, events."""
