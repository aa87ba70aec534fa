"""Scenario simulator: physiology of a ketamine session over time, and its CLI."""
