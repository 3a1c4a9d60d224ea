"""Retention analytics, customer lifetime value, customer valuation and risk.

Pure functions over numpy arrays: no ORM, no Django. The nightly run gathers
the arrays with set-based SQL and calls these; docs/analytics.md gives every
definition a number depends on, with its reference.
"""
