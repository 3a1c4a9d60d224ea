"""Loyalty's refusals, in the one hierarchy of customers.errors (409 in the API)."""

from customers.errors import Conflict


class InsufficientPoints(Conflict):
    pass


class OutOfStock(Conflict):
    pass
