"""The central station's window: every chair of the clinic on one screen (issue 17)."""
