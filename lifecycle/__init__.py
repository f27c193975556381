"""Lifecycle Lab: the public Python API (filled in below the command line and the page)."""
