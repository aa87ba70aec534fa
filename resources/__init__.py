"""Data files shipped with the app: default alarm profiles (and, later, icons and theme).

A package only so that :mod:`importlib.resources` finds the files both in a
source checkout and in an installed wheel.
"""
