"""Protocol encoders: what a real device would put on the wire for a scenario."""
