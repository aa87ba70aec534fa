"""Infusion Monitor: live vital-sign monitoring and recording for IV ketamine sessions."""

__version__ = "0.1.0"
